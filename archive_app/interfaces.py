"""Service interfaces: what each process-wide collaborator offers, found with
`request.find_service(IName)` in a request and `registry.getUtility(IName)` outside one
(registered both ways by `config.register_process_service`, archive_app/registry.py).

An interface lives here, below every feature, so that a lower layer can ask for what a higher
one provides (records asks `IRetentionPolicy`, which retention registers) without importing
it. Methods are declared without `self`, as zope.interface wants; tests/unit/test_interfaces.py
checks every registered implementation against its interface.
"""

from zope.interface import Attribute, Interface

# -- the kernel (archive_app/__init__.py, db.py) ---------------------------------------------


class IClock(Interface):
    """What time and day it is (`archive_app.clock.Clock`)."""

    zone = Attribute("The archive's time zone (a ZoneInfo); retention counts days in it.")

    def now():
        """The current moment, an aware UTC datetime."""

    def today():
        """Today's date in the archive's time zone."""


class IDatabase(Interface):
    """The engine and one session factory per purpose (`archive_app.db.Database`)."""

    engine = Attribute("The SQLAlchemy engine.")

    def read():
        """A new session for reading (a deferred transaction on SQLite)."""

    def write():
        """A new session for writing: on SQLite its transactions take the write lock at
        BEGIN. The access log writes on one of its own; so does a retention run."""

    def dispose():
        """Close the engine's pooled connections (end of a command, a refused start)."""


# -- workdays ----------------------------------------------------------------------------------


class IWorkingCalendar(Interface):
    """Mainland China's working days (official holidays, 调休 make-up days, the admin's
    additions). Every method raises `workdays.UnknownCalendarYear` for a year it does not
    know: never a guess."""

    def is_working_day(day):
        """Whether people work on that day."""

    def add_working_days(day, count):
        """The `count`-th working day after `day` (`day` itself for 0)."""

    def working_days_between(start, end):
        """Working days in (start, end]; 0 when end is not after start."""

    def snapshot():
        """The calendar as loaded now (the same three methods), for a loop over many dates."""


# -- vault -------------------------------------------------------------------------------------


class IKeyring(Interface):
    """Key-encryption keys, field and HMAC keys, the signing key (`vault.keyring.Keyring`,
    or `vault.ReloadingKeyring` over the keyring file)."""

    current_kek_version = Attribute("The version new data keys are wrapped under.")

    def kek(version):
        """The key-encryption key of that version (KeyringError if unknown)."""

    def field_key():
        """The key of field-level encryption."""

    def hmac_key(purpose):
        """A keyed-hash key derived for one purpose ("lookup", "session", "access-log")."""

    def signing_key():
        """The current Ed25519 signing key (certificates)."""

    def public_key_bytes():
        """The current signing key's public half, raw bytes."""

    def trusted_public_keys():
        """Every public key a stored signature may verify under (current and retired)."""

    def rotate(now=None):
        """A new key-encryption key becomes current; returns its version."""

    def save(path):
        """Write the keyring to its file, atomically."""


class IBlobStore(Interface):
    """Encrypted document bodies on disk (`vault.blobstore.BlobStore`)."""

    def write(src, dek, document_id):
        """Encrypt `src` under `dek` into a new blob: (storage name, digest)."""

    def open_plaintext(name, dek, document_id):
        """The plaintext, chunk by chunk, each released only after it authenticates."""

    def verify(name, dek, document_id):
        """Decrypt and authenticate the whole blob without keeping it: its digest."""

    def exists(name):
        """Whether a blob of that name is on disk."""

    def iter_names():
        """The names of every blob on disk."""

    def remove(name):
        """Delete a blob (retention's unlink)."""

    def remove_orphan(name):
        """Delete a blob no row references."""


class IFieldCipher(Interface):
    """Field-level encryption of personal data (`vault.fields.FieldCipher`)."""

    def encrypt(text, *, context):
        """Sealed bytes of `text` bound to `context` (None stays None)."""

    def decrypt(data, *, context):
        """The text sealed by `encrypt` under the same context."""

    def lookup_hash(text):
        """The keyed hash that exact-match look-ups compare, never the clear value."""


class IBucketKeys(Interface):
    """Per-retention-bucket keys, destroyed when no living row uses them
    (`vault.buckets.BucketKeys`)."""

    def key(bucket):
        """The bucket's key (KeyringError if destroyed or unknown)."""

    def for_wrapping(bucket):
        """The bucket's key, created if it does not exist yet."""

    def names():
        """The buckets that have a key."""

    def destroy(buckets, idle_seconds):
        """Delete the keys of these buckets unused for that long; the names deleted."""


class IWrappedKeys(Interface):
    """Declared by vault for key rotation, registered by records
    (`records.keyrows.WrappedKeyRows`): the rows whose data keys a key-encryption key wraps."""

    def pending(session, current_version):
        """How many data keys are wrapped under another version than `current_version`."""

    def batch(session, current_version, size):
        """Up to `size` rows (with `wrapped_key`, `kek_version`, `key_bucket`, `id`,
        `dossier_id`) wrapped under another version, in a stable order."""


# -- access -------------------------------------------------------------------------------------


class IAccessLog(Interface):
    """The hash-chained access log (`access.accesslog.AccessLog`)."""

    def append(session, event):
        """An entry in `session`'s transaction: it commits or vanishes with the action."""

    def append_now(event):
        """An entry committed at once on the log's own session (a denial survives)."""

    def as_json(entry):
        """The entry as the API shows it."""

    def write_checkpoint(session=None):
        """Sign the chain's head now; the checkpoint written, or None if nothing new."""

    def verify(session):
        """Walk the chain and the signed checkpoints: a report with `entries`, `problems`."""


class IAccountService(Interface):
    """Users, passwords and tokens (`access.services.AccountService`)."""

    def add_user(username, role, password, clearance="internal"):
        """Create a user (Conflict if the name is taken)."""

    def find_user(username):
        """The user of that name, or None."""

    def authenticate(username, password):
        """The active user whose password this is, or None (same time either way)."""

    def verify_password(user, password):
        """Whether `password` is the active user's, without signing in (nothing logged): an
        electronic signature's re-authentication."""

    def issue_token(user):
        """A new bearer token for the user: (token, expires_at)."""

    def user_for_token(token):
        """The user a live token belongs to, or None."""

    def revoke_token(token):
        """End a token; whether it was live."""


class IDirectorySignIn(Interface):
    """Sign-in against an LDAP / Active Directory server (`access.directory.DirectorySignIn`)."""

    enabled = Attribute("whether `archive.ldap.url` is set (unset: local accounts only)")

    def sign_in(accounts, username, user, password, later):
        """The account signed in through the directory (provisioned, its role and clearance
        updated), or None with `accounts.refusal` set; raises DirectoryUnavailable."""


class ICredentials(Interface):
    """Passwords and the second factor of accounts (`access.account.CredentialService`)."""

    def change_own_password(user, current, new, *, keep_session=None, keep_token=None):
        """A user's own new password; every other token and session of theirs ends."""

    def reset_password(user, new, *, must_change=True):
        """An admin's reset: every token and session ends; a change is due at sign-in."""

    def has_second_factor(user):
        """Whether the user has a confirmed second factor."""

    def verify_second_factor(user, code):
        """The use a good code was (totp or recovery; used up now); None for a wrong one."""

    def using(session):
        """The same service over another session (a check that commits on its own)."""


class IAccountRules(Interface):
    """The archive's account rules from its settings (`access.account.AccountRules`)."""

    def confinement(user, now):
        """Why the user may reach only /account now (a `Confinement`), or None."""


class IDossierClearance(Interface):
    """Declared by access for reviewing the log, registered by records
    (`records.clearance.DossierClearance`): what an access-log entry's dossier is."""

    def withheld_clause(identity):
        """SQL over `AccessLogEntry`: true where the entry names (by id or complaint number)
        a dossier the identity may not read."""

    def levels(session, dossier_ids):
        """{dossier id: confidentiality level} of those that exist."""

    def names_clause(complaint_no):
        """SQL over `AccessLogEntry`: true where the entry names the dossier of that complaint
        number (whatever its letter case), by its number or by its id."""

    def documents(session, document_ids):
        """{document id: (filename, destroyed)} of those that exist (the log's downloads)."""


# -- records -----------------------------------------------------------------------------------


class IRecordsService(Interface):
    """Filing and reading dossiers (`records.services.RecordsService`), one per session."""

    def file_dossier(raw_metadata, uploads, filed_by):
        """Validate, encrypt and store a new dossier with its documents."""

    def append_documents(dossier, uploads, added_by):
        """Add documents to a living dossier."""

    def get(dossier_id):
        """The dossier of that id whatever its level, or None."""

    def readable_by_complaint_no(complaint_no, identity):
        """The dossier with this number if the identity may read it, else None."""

    def customer(dossier):
        """The dossier's decrypted customer fields."""

    def open_document(document, data_key=None):
        """The document's plaintext, chunk by chunk (`data_key`: unwrapped already)."""

    def retention_decision(batches, closed_on):
        """The destroy-after date the retention policy gives these product lines."""

    def as_json(dossier, *, unmasked):
        """The dossier's one JSON shape (records/serializers.py), customer masked or not."""


class IRetentionPolicy(Interface):
    """Declared by records for filing, registered by retention (`retention.policy`): which
    rule dates a dossier, and whether a hold by query already covers a new one."""

    rule_set = Attribute("The configured rule set (archive.retention.rule).")
    rule_sets = Attribute("Every rule set's name.")

    def decide(batches, closed_on):
        """A `RetentionDecision` (records/policy.py) for these product lines."""

    def held_by_query(session, names, batches):
        """Whether an active hold by product or batch covers a dossier of these lines."""

    def holds_of(session, dossier_id):
        """Every hold that covers the dossier, active and released (its own and those by
        product or batch), newest first: for the dossier page."""


# -- search ------------------------------------------------------------------------------------


class ISearchService(Interface):
    """The search index of dossiers (`search.engine.SearchIndex`)."""

    query_timeout = Attribute("Seconds a query may run before QueryTimedOut.")

    def exists():
        """Whether an index generation is in place."""

    def upgrade():
        """Bring what the index derives to this version's format (`archive init` calls it
        on an existing index): None, or what is left for the operator to run."""

    def search(query, levels):
        """Hits, totals and facets of a SearchQuery, trimmed to these levels."""

    def ids():
        """The dossier ids the index holds."""


class IPreviewRenderer(Interface):
    """Draws a document's preview in the sandboxed child (search registers its sandbox):
    records asks it for the dossier page's thumbnails."""

    def render(path, media_type):
        """`thumbnails.Rendered`: the PNG of the first page or image, or why there is none."""


class IIndexer(Interface):
    """Keeps the index in step with the database (`search.indexing.Indexer`): a durable
    queue applied after commit, purges for retention, rebuilds."""

    def queue(session, dossier_id):
        """Index the dossier once the session's transaction commits."""

    def flush(timeout=60.0):
        """Wait until what is queued now is written; False if not within `timeout`."""

    def purge(dossier_ids):
        """Remove destroyed dossiers' entries and merge the segments that held them."""

    def rebuild(processes=1, progress=None):
        """Build a new generation from the database and swap it in: dossiers indexed."""

    def drained_apart(config_uri):
        """A context manager for a long run of commits (an import): their queue rows drained
        by a process of its own started with that configuration, waited for at the end."""


class IOcrQueue(Interface):
    """Reads scans by OCR in the background (`search.ocr_queue.OcrQueue`): the documents whose
    text is `ocr_pending`, their text stored and their dossier indexed again."""

    def request():
        """A document was left for OCR: read it soon."""

    def flush(timeout=600.0):
        """Read everything pending now; False if not within `timeout`."""

    def drain():
        """Read every pending document in this thread: how many were read."""
