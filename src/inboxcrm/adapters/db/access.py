"""SQL for API tokens and the audit log (see `core.ports.AccessTransaction`).

A mixin of `SqlTransaction`: it shares the transaction's connection. Tokens are kept as SHA-256 hashes only.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import insert, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from inboxcrm.adapters.db import tables as t
from inboxcrm.adapters.db.statements import Statements
from inboxcrm.core.ports import StoredToken


def _aware(value: datetime | None) -> datetime | None:
    # SQLite hands back naive datetimes; everything we store is UTC
    if value is None:
        return None
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _token(row: Any) -> StoredToken:
    created = _aware(row.created_at)
    assert created is not None  # NOT NULL column
    return StoredToken(
        id=row.id,
        name=row.name,
        scope=row.scope,
        rate_limit=row.rate_limit,
        created_at=created,
        last_used_at=_aware(row.last_used_at),
        revoked_at=_aware(row.revoked_at),
    )


class AccessStatements(Statements):
    """API tokens (by hash) and the audit log."""

    def api_token_by_hash(self, token_hash: str) -> StoredToken | None:
        """The token whose hash this is, revoked or not (the caller decides)."""
        row = self.connection.execute(select(t.api_tokens).where(t.api_tokens.c.token_hash == token_hash)).first()
        return _token(row) if row else None

    def api_token_named(self, name: str) -> StoredToken | None:
        row = self.connection.execute(select(t.api_tokens).where(t.api_tokens.c.name == name)).first()
        return _token(row) if row else None

    def api_token_list(self) -> list[StoredToken]:
        """Every stored token, revoked ones included, by name."""
        rows = self.connection.execute(select(t.api_tokens).order_by(t.api_tokens.c.name))
        return [_token(row) for row in rows]

    def add_api_token(self, name: str, scope: str, token_hash: str, rate_limit: int | None, at: datetime) -> int | None:
        """A new token's id; None when the name (or the hash) is taken, revoked tokens' names included."""
        dialect = postgresql if self._dialect == "postgresql" else sqlite
        result = self.connection.execute(
            dialect.insert(t.api_tokens)
            .values(name=name, scope=scope, token_hash=token_hash, rate_limit=rate_limit, created_at=at)
            .on_conflict_do_nothing()
            .returning(t.api_tokens.c.id)
        )
        found = result.scalar_one_or_none()
        return int(found) if found is not None else None

    def touch_api_token(self, token_id: int, at: datetime, unless_since: datetime) -> None:
        """Set `last_used_at` to `at`, unless it is already `unless_since` or later: concurrent requests of
        one token then write the row once rather than once each."""
        c = t.api_tokens.c
        self.connection.execute(
            update(t.api_tokens)
            .where(c.id == token_id, or_(c.last_used_at.is_(None), c.last_used_at < unless_since))
            .values(last_used_at=at)
        )

    def revoke_api_token(self, token_id: int, at: datetime) -> None:
        """Mark the token revoked at `at` (a token already revoked keeps its first revocation time)."""
        c = t.api_tokens.c
        self.connection.execute(
            update(t.api_tokens).where(c.id == token_id, c.revoked_at.is_(None)).values(revoked_at=at)
        )

    def add_audit(self, actor: str, action: str, subject: str, detail: Mapping[str, Any], at: datetime) -> None:
        self.connection.execute(
            insert(t.audit_log).values(at=at, actor=actor, action=action, subject=subject, detail=dict(detail))
        )
