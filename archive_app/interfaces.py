"""Service interfaces, found with `request.find_service(IName)` or the registry."""

from zope.interface import Interface


class IClock(Interface):
    """What time and day it is (`archive_app.clock.Clock`)."""


class IKeyring(Interface):
    """Key-encryption keys, field and HMAC keys, the signing key (`vault.keyring.Keyring`)."""


class IBlobStore(Interface):
    """Encrypted document bodies on disk (`vault.blobstore.BlobStore`)."""


class IFieldCipher(Interface):
    """Field-level encryption of personal data (`vault.fields.FieldCipher`)."""


class IAccessLog(Interface):
    """The hash-chained access log (`access.accesslog.AccessLog`)."""


class IAccountService(Interface):
    """Users, passwords and tokens (`access.services.AccountService`)."""


class IRecordsService(Interface):
    """Filing and reading dossiers (`records.services.RecordsService`)."""


class ISearchService(Interface):
    """Finding dossiers (`search.services`)."""
