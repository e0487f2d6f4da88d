"""SQLAlchemy implementation of the services' store ports, for SQLite and PostgreSQL.

`SqlTransaction` is one open transaction; its statements live by area in mixins that share the connection
(`intake`, `contacts`, `messages`, `tickets`, `outbox`, `outreach`, `access`, `privacy`, `places` (where
each message sits in its source), `people`, `claims` (outbox leases), and the customer record's `record`:
search index, fields, business events, webhook deliveries, merging). Bulk statements throughout: an ingest
batch of a few hundred messages costs a handful of round trips. A lock, a full disk or a lost connection
leaves `transaction()` as `StoreUnavailable`, so callers wait and retry instead of blaming the message.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.exc import DBAPIError

from inboxcrm.adapters.db.access import AccessStatements
from inboxcrm.adapters.db.claims import ClaimStatements
from inboxcrm.adapters.db.contacts import ContactStatements
from inboxcrm.adapters.db.errors import is_transient
from inboxcrm.adapters.db.history import HistoryStatements
from inboxcrm.adapters.db.holding import HoldingStatements
from inboxcrm.adapters.db.intake import IntakeStatements
from inboxcrm.adapters.db.messages import MessageStatements
from inboxcrm.adapters.db.outbox import OutboxStatements
from inboxcrm.adapters.db.outreach import OutreachStatements
from inboxcrm.adapters.db.people import PeopleStatements
from inboxcrm.adapters.db.places import PlaceStatements
from inboxcrm.adapters.db.privacy import PrivacyStatements
from inboxcrm.adapters.db.record import EventHooks, RecordStatements
from inboxcrm.adapters.db.satisfaction import SatisfactionStatements
from inboxcrm.adapters.db.tickets import TicketStatements
from inboxcrm.core.ports import StoreUnavailable


def make_engine(url: str, echo: bool = False, busy_timeout: float = 30) -> Engine:
    """An engine with the settings we rely on (SQLite: WAL, foreign keys, a busy timeout, 16 KB pages in a new
    file; PostgreSQL: lz4 for
    what is stored compressed, where the server has it)."""
    if url.startswith("sqlite"):
        engine = create_engine(url, echo=echo, connect_args={"timeout": busy_timeout})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            # Raw mail is stored as blobs of ~20 KB: in 16 KB pages they take a third fewer page writes than
            # in the default 4 KB (commits ~30% cheaper, issue 18). Only a new, empty file takes it; an
            # existing database keeps its page size.
            cursor.execute("PRAGMA page_size=16384")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        return engine
    engine = create_engine(url, echo=echo, pool_pre_ping=True)
    errors = engine.dialect.loaded_dbapi.Error

    @event.listens_for(engine, "connect")
    def _postgresql_settings(dbapi_connection: Any, _record: Any) -> None:
        # Raw mail and bodies are stored compressed (TOAST): lz4 does it several times faster than the default
        # pglz, about 15% of a whole ingest here (PostgreSQL 14+ built with lz4; other servers keep theirs).
        try:
            with dbapi_connection.cursor() as cursor:
                cursor.execute("SET default_toast_compression = 'lz4'")
            dbapi_connection.commit()
        except errors:
            dbapi_connection.rollback()

    return engine


class SqlTransaction(
    IntakeStatements,
    ContactStatements,
    MessageStatements,
    TicketStatements,
    OutboxStatements,
    OutreachStatements,
    AccessStatements,
    PrivacyStatements,
    HistoryStatements,
    RecordStatements,
    SatisfactionStatements,
    HoldingStatements,
    PlaceStatements,
    PeopleStatements,
    ClaimStatements,
):
    """One open transaction on `connection` (see `services.ports.IngestTransaction`)."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self._dialect = connection.dialect.name


class SqlStore:
    """Opens transactions on an engine (see `services.ports.Store`)."""

    def __init__(self, engine: Engine, hooks: EventHooks = ()) -> None:
        self.engine = engine
        self.hooks = hooks  # run on the timeline events of each transaction, inside it (webhooks)

    @contextmanager
    def transaction(self) -> Iterator[SqlTransaction]:
        """One transaction; a lock, a full disk or a lost connection is raised as `StoreUnavailable`."""
        try:
            with self.engine.begin() as connection:
                tx = SqlTransaction(connection)
                tx.event_hooks = self.hooks
                yield tx
        except DBAPIError as exc:
            if is_transient(exc):
                raise StoreUnavailable(f"{type(exc.orig).__name__}: {exc.orig}") from exc
            raise
