"""The store: syndication ledger, channel state and audit log in SQLite or PostgreSQL.

Open it with :func:`open_store` (migrates to the newest schema); change it with the
functions in :mod:`publish.store.ledger`, :mod:`publish.store.channel_state` and
:mod:`publish.store.audit`, which take a session and never commit on their own.
"""

from publish.store.db import Store, mask_url, open_store
from publish.store.errors import Conflict, NotFound, StoreError
from publish.store.models import AuditEvent, ChannelState, LedgerEntry, Status

__all__ = [
    "AuditEvent",
    "ChannelState",
    "Conflict",
    "LedgerEntry",
    "NotFound",
    "Status",
    "Store",
    "StoreError",
    "mask_url",
    "open_store",
]
