"""At start-up: does the keyring open this archive's data? (A wrong or stale keyring would
otherwise show up only as failed downloads, one by one.)"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from ..interfaces import IBucketKeys, IDatabase, IKeyring
from ..vault.buckets import Sealer
from ..vault.envelope import KeyUnwrapError, unwrap_data_key
from ..vault.keyring import KeyringError
from .models import Document


def keyring_problem(registry) -> str | None:
    """None if the keyring opens the newest data key; else what is wrong, without key bytes."""
    sealer = Sealer(registry.getUtility(IKeyring), registry.getUtility(IBucketKeys))
    try:
        with registry.getUtility(IDatabase).read() as session:
            document = session.scalar(
                select(Document).where(Document.wrapped_key.is_not(None))
                .order_by(Document.added_at.desc()).limit(1))  # fmt: skip
            if document is None:
                return None  # an empty archive: any keyring will do
            key = sealer.wrapping_key(document.kek_version, document.key_bucket)
            unwrap_data_key(key, document.wrapped_key, kek_version=document.kek_version,
                            dossier_id=document.dossier_id, document_id=document.id)  # fmt: skip
    except SQLAlchemyError:
        return None  # no schema yet (`archive init` creates it); nothing to open
    except KeyringError as error:  # a KEK version or a bucket key it does not have
        return f"the keyring does not open this archive's data keys ({error})"
    except KeyUnwrapError:
        return ("the keyring does not open this archive's data keys (another archive's "
                "keyring, or a copy older than the last key rotation)")  # fmt: skip
    return None
