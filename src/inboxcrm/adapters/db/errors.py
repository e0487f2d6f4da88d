"""Which database errors pass (a lock, a full disk, a lost connection) and which are about the data.

The store turns the first kind into `core.ports.StoreUnavailable`, so the services wait and do the same
work again instead of quarantining good mail or sending mail twice.
"""

from __future__ import annotations

from sqlalchemy.exc import DBAPIError, OperationalError

# SQLite primary result codes: BUSY, LOCKED, NOMEM, IOERR, FULL, CANTOPEN, PROTOCOL
_SQLITE_TRANSIENT = frozenset({5, 6, 7, 10, 13, 14, 15})
# PostgreSQL SQLSTATE classes and codes: connection, transaction rollback (deadlock, serialisation),
# insufficient resources (disk full, out of memory, too many connections), lock not available, shutdowns,
# I/O error
_PG_CLASSES = ("08", "40", "53")
_PG_CODES = frozenset({"55P03", "57P01", "57P02", "57P03", "58030"})


def is_transient(exc: BaseException) -> bool:
    """True for an error that says nothing about the data: the same statements may well work later."""
    if not isinstance(exc, DBAPIError):
        return False
    if exc.connection_invalidated:
        return True
    orig = exc.orig
    code = getattr(orig, "sqlite_errorcode", None)
    if code is not None:
        return int(code) & 0xFF in _SQLITE_TRANSIENT
    state = getattr(orig, "sqlstate", None)
    if state:
        return str(state)[:2] in _PG_CLASSES or str(state) in _PG_CODES
    # a driver error without a code: psycopg's "connection refused/closed" is an OperationalError
    return isinstance(exc, OperationalError)
