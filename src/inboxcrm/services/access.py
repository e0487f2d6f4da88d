"""Who is calling: API tokens, what each may do (its scope) and how often (its rate limit).

Tokens come from two places:

* the config (`[api] tokens`): each offered token is compared in constant time with *every* configured one, so
  the time taken says nothing about which one matched or how close a guess was;
* the database (`inboxcrm tokens create`): random, prefixed `icrm_`, shown once and stored only as their
  SHA-256, looked up by that hash. Revoked ones are refused; `last_used_at` is written at most once a minute per
  token, so a busy token does not turn every request into a write.

Rate limits are requests per minute per token name, counted in a sliding window **in this process's memory**:
with several processes serving the API each allows the full rate, and a restart forgets the counts.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import math
import re
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from inboxcrm.core.ports import Store, StoredToken

TOKEN_PREFIX = "icrm_"
DEFAULT_RATE_LIMIT = 600
WINDOW = 60.0  # seconds: rate limits are per minute
TOUCH_EVERY = timedelta(minutes=1)
_NAME = re.compile(r"^[A-Za-z0-9_.@-]{1,100}$")


class Scope(enum.IntEnum):
    """What a token may do; each scope includes the ones before it (see `inboxcrm.web.auth`)."""

    READ = 1
    WRITE = 2
    ADMIN = 3

    def __str__(self) -> str:
        return self.name.lower()

    @classmethod
    def named(cls, text: str) -> Scope:
        """`"read"`, `"write"` or `"admin"` → the scope; ValueError otherwise."""
        try:
            return cls[text.upper()]
        except KeyError:
            raise ValueError(f"unknown scope {text!r} (expected read, write or admin)") from None


@dataclass(frozen=True, slots=True)
class ConfiguredToken:
    """A token from the config file: its value, its name and its scope."""

    value: str
    name: str
    scope: Scope = Scope.ADMIN


@dataclass(frozen=True, slots=True)
class Caller:
    """An identified caller. `rate_limit` is requests per minute; None = the `Access` default."""

    name: str
    scope: Scope
    rate_limit: int | None = None

    def may(self, needed: Scope) -> bool:
        return self.scope >= needed


class RateLimited(Exception):
    """The caller used up its requests for this minute; it may try again after `retry_after` seconds."""

    def __init__(self, name: str, retry_after: int) -> None:
        super().__init__(f"token {name!r} is over its rate limit; retry after {retry_after}s")
        self.retry_after = retry_after


class TokenExists(ValueError):
    """A token by that name exists already (in the database, revoked ones included, or in the config)."""


class TokenNotFound(LookupError):
    """No stored token by that name."""


def hash_token(value: str) -> str:
    """The stored form of a token: its SHA-256, hex."""
    return hashlib.sha256(value.encode()).hexdigest()


def _utc_now() -> datetime:
    return datetime.now(UTC)


class Access:
    """Identifies callers by token, counts their requests, and manages stored tokens.

    `tokens` are the configured tokens; `store` holds the others (None: configured tokens only, and no
    management). `rate_limit` (requests per minute) applies to configured tokens and to stored ones without
    their own. `monotonic` times the rate-limit window; `clock` stamps the database rows.
    """

    def __init__(
        self,
        tokens: Iterable[ConfiguredToken] = (),
        store: Store | None = None,
        clock: Callable[[], datetime] = _utc_now,
        rate_limit: int = DEFAULT_RATE_LIMIT,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        if rate_limit < 1:
            raise ValueError("rate_limit must be at least 1 request per minute")
        self._configured = tuple((t.value.encode(), t) for t in tokens if t.value)
        self._store = store
        self._clock = clock
        self._rate_limit = rate_limit
        self._monotonic = monotonic
        self._lock = threading.Lock()  # FastAPI runs sync dependencies on a thread pool
        self._hits: dict[str, deque[float]] = {}

    @property
    def configured_names(self) -> frozenset[str]:
        return frozenset(t.name for _, t in self._configured)

    def identify(self, offered: str | None) -> Caller | None:
        """The caller a token belongs to, or None for no token, an unknown one or a revoked one."""
        if not offered:
            return None
        encoded = offered.encode()
        matched: ConfiguredToken | None = None
        for value, token in self._configured:  # no early exit: every comparison is made, whatever matches
            if hmac.compare_digest(encoded, value):
                matched = token
        if matched is not None:
            return Caller(matched.name, matched.scope)
        if self._store is None or not offered.startswith(TOKEN_PREFIX):
            return None  # stored tokens all carry the prefix: anything else cannot be one, skip the query
        now = self._clock()
        with self._store.transaction() as tx:
            stored = tx.api_token_by_hash(hash_token(offered))
            if stored is None or stored.revoked_at is not None:
                return None
            since = now - TOUCH_EVERY
            if stored.last_used_at is None or stored.last_used_at < since:
                tx.touch_api_token(stored.id, now, since)
        return Caller(stored.name, Scope.named(stored.scope), stored.rate_limit)

    def admit(self, caller: Caller) -> None:
        """Count one request by `caller`; raise `RateLimited` (not counting it) when the last minute already
        holds its limit. Refused requests do not count, so a caller that waits `retry_after` gets through."""
        limit = caller.rate_limit or self._rate_limit
        now = self._monotonic()
        with self._lock:
            hits = self._hits.setdefault(caller.name, deque())
            while hits and hits[0] <= now - WINDOW:
                hits.popleft()
            if len(hits) >= limit:
                raise RateLimited(caller.name, max(1, math.ceil(hits[0] + WINDOW - now)))
            hits.append(now)

    # managing stored tokens

    def create(self, name: str, scope: Scope, rate_limit: int | None = None, actor: str = "cli") -> str:
        """Store a new token and return its value: the only time it is ever seen (only its hash is kept).

        Raises TokenExists when `name` is taken (by a stored token, even a revoked one, or a configured one),
        ValueError for a bad name or rate limit. Writes a `token_created` audit row by `actor`."""
        store = self._need_store()
        if not _NAME.match(name):
            raise ValueError(f"a token name is 1-100 letters, digits, '_', '.', '@' or '-', not {name!r}")
        if rate_limit is not None and rate_limit < 1:
            raise ValueError("the rate limit must be at least 1 request per minute")
        if name in self.configured_names:
            raise TokenExists(f"a token named {name!r} is in the config ([api] tokens)")
        value = TOKEN_PREFIX + secrets.token_urlsafe(32)  # 32 random bytes
        now = self._clock()
        with store.transaction() as tx:
            if tx.add_api_token(name, str(scope), hash_token(value), rate_limit, now) is None:
                raise TokenExists(f"a token named {name!r} exists already (revoked tokens keep their names)")
            detail = {"scope": str(scope), "rate_limit": rate_limit}
            tx.add_audit(actor, "token_created", f"token:{name}", detail, now)
        return value

    def tokens(self) -> list[StoredToken]:
        """Every stored token, revoked ones included, by name (never their values: those are not kept)."""
        with self._need_store().transaction() as tx:
            return tx.api_token_list()

    def revoke(self, name: str, actor: str = "cli") -> bool:
        """Revoke the stored token `name` and write a `token_revoked` audit row by `actor`; False (and no
        audit row) when it was revoked already. Raises TokenNotFound when there is no such stored token."""
        store = self._need_store()
        now = self._clock()
        with store.transaction() as tx:
            stored = tx.api_token_named(name)
            if stored is None:
                hint = " (it is in the config: remove it from [api] tokens)" if name in self.configured_names else ""
                raise TokenNotFound(f"no stored token named {name!r}{hint}")
            if stored.revoked_at is not None:
                return False
            tx.revoke_api_token(stored.id, now)
            tx.add_audit(actor, "token_revoked", f"token:{name}", {"scope": stored.scope}, now)
        return True

    def _need_store(self) -> Store:
        if self._store is None:
            raise RuntimeError("stored tokens need a database (Access was built without a store)")
        return self._store
