"""Mailbox leases in the database: which daemon fetches which mailbox, so that each has one IMAP session.

A daemon holds a mailbox while its lease runs (`expires_at`, renewed every round, well before it runs
out). A lease that ran out is free: whoever claims it first (a conditional UPDATE, atomic on PostgreSQL
and SQLite) holds it. Every round also writes the daemon's `seen_at` into `fetchers`; the daemons seen
within one lease share the mailboxes, each holding at most its fair share (rounded up): a daemon that
holds more gives the surplus back, a daemon that holds less claims free ones.

Times come from the caller's clock: the daemons' clocks must agree (NTP) to within a small part of a lease.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import Engine, Table, and_, delete, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from inboxcrm.adapters.db import tables as t
from inboxcrm.adapters.db.statements import aware

L = t.mailbox_leases


class SqlLeases:
    """One daemon's side of the leases; `round()` is called every few seconds by the sharing service."""

    def __init__(self, engine: Engine, holder: str) -> None:
        self.engine = engine
        self.holder = holder

    def _insert_ignore(self, table: Table) -> postgresql.Insert | sqlite.Insert:
        if self.engine.dialect.name == "postgresql":
            return postgresql.insert(table).on_conflict_do_nothing()
        return sqlite.insert(table).on_conflict_do_nothing()

    def round(self, mailboxes: Sequence[str], now: datetime, lease: timedelta) -> set[str]:
        """Say we are alive, renew what we hold, give back a surplus, claim our share; the mailboxes we hold."""
        until = now + lease
        with self.engine.begin() as connection:
            connection.execute(self._insert_ignore(t.fetchers).values(holder=self.holder, seen_at=now))
            connection.execute(update(t.fetchers).where(t.fetchers.c.holder == self.holder).values(seen_at=now))
            connection.execute(delete(t.fetchers).where(t.fetchers.c.seen_at < now - 20 * lease))
            live = connection.execute(
                select(func.count()).select_from(t.fetchers).where(t.fetchers.c.seen_at > now - lease)
            ).scalar_one()
            if mailboxes:
                connection.execute(self._insert_ignore(L), [{"mailbox": name} for name in mailboxes])
            rows = connection.execute(select(L.c.mailbox, L.c.holder, L.c.expires_at).where(L.c.mailbox.in_(mailboxes)))
            mine = sorted(
                r.mailbox for r in rows if r.holder == self.holder and r.expires_at and aware(r.expires_at) > now
            )
            share = math.ceil(len(mailboxes) / max(int(live), 1))
            keep, give_back = mine[:share], mine[share:]
            if keep:
                connection.execute(
                    update(L).where(L.c.holder == self.holder, L.c.mailbox.in_(keep)).values(expires_at=until)
                )
            if give_back:
                connection.execute(
                    update(L)
                    .where(L.c.holder == self.holder, L.c.mailbox.in_(give_back))
                    .values(holder=None, expires_at=None)
                )
        held = set(keep)
        for name in sorted(set(mailboxes) - held):
            if len(held) >= share:
                break
            with self.engine.begin() as connection:
                claimed = connection.execute(
                    update(L)
                    .where(
                        L.c.mailbox == name, or_(L.c.holder.is_(None), L.c.expires_at.is_(None), L.c.expires_at <= now)
                    )
                    .values(holder=self.holder, expires_at=until)
                ).rowcount
            if claimed:
                held.add(name)
        return held

    def release(self, mailboxes: Sequence[str]) -> None:
        """Give back every lease we hold (a clean stop: another daemon takes over at its next round)."""
        with self.engine.begin() as connection:
            connection.execute(
                update(L)
                .where(and_(L.c.holder == self.holder, L.c.mailbox.in_(mailboxes)))
                .values(holder=None, expires_at=None)
            )
            connection.execute(delete(t.fetchers).where(t.fetchers.c.holder == self.holder))

    def holders(self) -> dict[str, str | None]:
        """Mailbox → the daemon holding it (None: free), for `/health` and tests."""
        with self.engine.connect() as connection:
            return {r.mailbox: r.holder for r in connection.execute(select(L.c.mailbox, L.c.holder))}
