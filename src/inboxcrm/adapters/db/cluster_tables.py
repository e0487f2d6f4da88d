"""The tables of several daemons sharing the work, and of alerts: mailbox leases, live fetchers, incidents.
Part of `tables.metadata` (re-exported by `adapters.db.tables`)."""

from __future__ import annotations

from sqlalchemy import Column, String, Table, Text

from inboxcrm.adapters.db.schema_base import TS, Id, metadata

# Which daemon fetches each mailbox, until when (it renews well before). A lease past `expires_at` is free.
mailbox_leases = Table(
    "mailbox_leases",
    metadata,
    Column("mailbox", String(100), primary_key=True),
    Column("holder", String(200), nullable=True),
    Column("expires_at", TS, nullable=True),
)

# Daemons alive: each writes `seen_at` with every lease round; the live ones share the mailboxes.
fetchers = Table(
    "fetchers",
    metadata,
    Column("holder", String(200), primary_key=True),
    Column("seen_at", TS, nullable=False),
)

# Something failing that the admins were told about (and told again when it ended).
incidents = Table(
    "incidents",
    metadata,
    Column("id", Id, primary_key=True),
    # "mailbox:<name>" or "outbox"
    Column("key", String(200), nullable=False, index=True),
    # the key while the incident is open, NULL once closed: at most one open incident per key, whichever
    # daemon notices first
    Column("open_key", String(200), nullable=True, unique=True),
    Column("problem", String(20), nullable=False),
    Column("detail", Text, nullable=False),
    Column("opened_at", TS, nullable=False),
    Column("closed_at", TS, nullable=True),
)
