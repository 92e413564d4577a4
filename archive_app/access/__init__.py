"""Access: who is asking (users, tokens, sessions), what they may do, and the access log."""

from __future__ import annotations

from pyramid.session import JSONSerializer, SignedCookieSessionFactory

from ..interfaces import (
    IAccessLog,
    IAccountRules,
    IAccountService,
    IClock,
    ICredentials,
    IDatabase,
    IDirectorySignIn,
    IFieldCipher,
    IKeyring,
)
from ..settings import as_bool, as_int, keyring_path
from .accesslog import CHECKPOINT_SECONDS, AccessLog
from .account import AccountRules, credentials_for
from .checkpoints import CheckpointFile
from .confinement import confined_view
from .directory import DirectorySettings, DirectorySignIn
from .policy import SecurityPolicy, accounts_for, load_user, uses_cookie_auth
from .resources import RoleContext

CHECKPOINT_SETTING = "archive.access_log.checkpoint_seconds"


def includeme(config):
    settings = config.get_settings()
    registry = config.registry
    keyring = registry.getUtility(IKeyring)  # built by the vault include, before this one
    clock = registry.getUtility(IClock)
    for name in ("archive.token_ttl_hours", "archive.session_idle_minutes",
                 "archive.session_max_hours"):  # fmt: skip
        as_int(settings, name, 1)  # a bad value stops the start, not the first request

    # Sessions: a signed cookie holding a session id and the CSRF token; the id counts only
    # while its row in web_sessions lives (policy.py). The secret comes from the keyring
    # unless configured, so a fresh install needs no secret in an ini file.
    secret = settings.get("archive.session_secret") or keyring.hmac_key("session").hex()
    config.set_session_factory(
        SignedCookieSessionFactory(
            secret,
            cookie_name="archive_session",
            secure=as_bool(settings, "archive.cookie_secure"),
            httponly=True,
            samesite="Lax",
            timeout=as_int(settings, "archive.session_idle_minutes", 1) * 60,
            reissue_time=60,
            serializer=JSONSerializer(),
        )
    )
    config.set_default_csrf_options(require_csrf=True, callback=uses_cookie_auth)

    # Deny by default: every view needs this unless it opts out with NO_PERMISSION_REQUIRED.
    config.set_security_policy(SecurityPolicy())
    config.set_root_factory(RoleContext)
    config.set_default_permission("archive:deny:default")
    config.add_request_method(load_user, "user", reify=True)

    config.register_service_factory(
        lambda context, request: accounts_for(request, request.dbsession), IAccountService
    )
    # Passwords and second factors (access/account.py); an account that must change its
    # password or enrol a second factor reaches only /account (access/confinement.py).
    config.register_process_service(AccountRules.from_settings(settings), IAccountRules)
    recovery_key = keyring.hmac_key("recovery-codes")
    config.register_service_factory(
        lambda context, request: credentials_for(request, request.dbsession, recovery_key),
        ICredentials,
    )
    config.add_view_deriver(confined_view)
    # The keyring itself, not its key: lines are signed with the key current at the time
    # (another process may rotate it), and verified under every key the keyring trusts.
    checkpoints = CheckpointFile(keyring_path(settings).parent / "access-log.checkpoints", keyring)
    access_log = AccessLog(
        keyring.hmac_key("access-log"),
        clock,
        # Its own sessions: a denial's entry commits whatever the request's transaction does.
        registry.getUtility(IDatabase).write,
        registry.getUtility(IFieldCipher),
        checkpoints,
        # Every entry is covered by a signed checkpoint within this many seconds.
        checkpoint_seconds=as_int(
            {CHECKPOINT_SETTING: str(CHECKPOINT_SECONDS), **settings}, CHECKPOINT_SETTING, minimum=1
        ),  # fmt: skip
    )
    config.register_process_service(access_log, IAccessLog)
    directory = DirectorySettings.from_settings(settings)  # None: local accounts only
    config.register_process_service(DirectorySignIn.from_registry(directory, registry),
                                    IDirectorySignIn)  # fmt: skip

    config.add_route("api.auth.token", "/api/v1/auth/token")
    config.add_route("api.access_log", "/api/v1/access-log")
    config.add_route("api.access_log.verify", "/api/v1/access-log/verify")
    config.add_route("api.access_log.export", "/api/v1/access-log/export.csv")
    config.add_route("api.access_log.export_xlsx", "/api/v1/access-log/export.xlsx")
    config.add_route("api.access_log.anomalies", "/api/v1/access-log/anomalies")
    config.add_route("access.log", "/access-log")
    config.add_route("access.log.export", "/access-log/export.csv")
    config.add_route("access.log.export_xlsx", "/access-log/export.xlsx")
    config.add_route("access.users", "/users")
    config.add_route("access.review", "/users/review")
    config.add_route("api.access_reviews", "/api/v1/access-reviews")
    config.add_route("api.users", "/api/v1/users")
    config.add_route("api.user", "/api/v1/users/{username}")
    config.add_route("access.login", "/login")
    config.add_route("access.logout", "/logout")
    config.add_route("access.login.code", "/login/code")
    config.add_route("access.account", "/account")
    config.add_route("api.account.password", "/api/v1/account/password")
    config.add_route("api.user.password", "/api/v1/users/{username}/password")
    config.add_route("api.user.second_factor", "/api/v1/users/{username}/second-factor")
    config.scan(".views")
    config.scan(".api")
    config.scan(".users")
    config.scan(".user_pages")
    config.scan(".account_api")
    config.scan(".account_pages")
    config.scan(".login_code")
    config.scan(".access_review_pages")
