"""The full-text index's own tables, which only one database has each: SQLite FTS5 virtual tables, or
PostgreSQL tables of tsvectors with GIN indexes. They are left out of `tables.metadata` (which describes what
both databases share) and out of the schema comparison (`is_search_table`).

Both hold the words `core/search_text.py` makes (folded, stemmed), never the engines' own parsing, so a search
finds the same on either database. SQLite: `search_messages` (rowid = message id; columns sender, recipients,
subject, body) and `search_contacts` (rowid = contact id). PostgreSQL: the same names, a row per message or
contact with one tsvector (message parts as weights A-D), deleted with the message or contact (foreign keys).
"""

from __future__ import annotations

from sqlalchemy import Connection, text

SEARCH_TABLES = ("search_messages", "search_contacts")

_SQLITE = (
    "CREATE VIRTUAL TABLE IF NOT EXISTS search_messages USING fts5("
    "sender, recipients, subject, body, tokenize = 'unicode61 remove_diacritics 0')",
    "CREATE VIRTUAL TABLE IF NOT EXISTS search_contacts USING fts5(body, tokenize = 'unicode61 remove_diacritics 0')",
)
_POSTGRESQL = (
    "CREATE TABLE IF NOT EXISTS search_messages (message_id BIGINT PRIMARY KEY REFERENCES messages (id) "
    "ON DELETE CASCADE, document TSVECTOR NOT NULL)",
    "CREATE INDEX IF NOT EXISTS search_messages_document ON search_messages USING GIN (document)",
    "CREATE TABLE IF NOT EXISTS search_contacts (contact_id BIGINT PRIMARY KEY REFERENCES contacts (id) "
    "ON DELETE CASCADE, document TSVECTOR NOT NULL)",
    "CREATE INDEX IF NOT EXISTS search_contacts_document ON search_contacts USING GIN (document)",
)


def is_search_table(name: str | None) -> bool:
    """A table of the search index (or one of FTS5's shadow tables: search_messages_data …)."""
    return name is not None and name.startswith(SEARCH_TABLES)


def create_search_tables(connection: Connection) -> None:
    for statement in _SQLITE if connection.dialect.name == "sqlite" else _POSTGRESQL:
        connection.execute(text(statement))


def drop_search_tables(connection: Connection) -> None:
    for name in SEARCH_TABLES:
        connection.execute(text(f"DROP TABLE IF EXISTS {name}"))
