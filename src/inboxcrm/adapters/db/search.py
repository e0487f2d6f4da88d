"""Full-text search on the database's own engine: writing the index (a mixin of `SqlTransaction`, called in
the ingest transaction) and reading it (`SqlSearch`).

SQLite: FTS5 (`MATCH`, rowid order); PostgreSQL: tsvector with GIN (`@@`). Both are given the words of
`core/search_text.py`, and queries are rendered from one `SearchQuery`, so both find the same messages.
Results come newest stored first (message id descending): the engines then stop at a page's worth.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, and_, column, exists, func, not_, select, table, text, true

from inboxcrm.adapters.db import tables as t
from inboxcrm.adapters.db.search_schema import create_search_tables, drop_search_tables
from inboxcrm.core.search_query import SearchQuery, Term
from inboxcrm.core.search_text import DEFAULT_LANGUAGE, PARTS, Analyzer, IndexedText, MessageText, message_terms
from inboxcrm.core.search_vector import lexeme_quoted, tsvector

_CHUNK = 500
# The index table as a FROM clause (its columns differ by engine; each query names only its engine's)
_FTS = table("search_messages", column("rowid"), column("message_id"))
_WEIGHTS = {"sender": "A", "recipients": "B", "subject": "C", None: ""}


def _names(addresses: Any) -> str:
    return " ".join(f"{a.get('name', '')} {a.get('email', '')}" for a in addresses or ())


def message_text(row: Any) -> MessageText:
    """What the index reads of a stored message row."""
    files = " ".join(str(a.get("filename", "")) for a in row.attachments or ())
    return MessageText(
        sender=f"{row.from_name or ''} {row.from_email or ''}",
        recipients=f"{_names(row.to)} {_names(row.cc)}",
        subject=row.subject or "",
        body=f"{row.text or ''}\n{files}",
    )


# -- queries in each engine's syntax


def _fts5_term(term: Term, parts: bool = True) -> str:
    phrase = '"' + " ".join(term.terms) + '"' + (" *" if term.prefix else "")
    return f"{term.part} : {phrase}" if parts and term.part else phrase


def fts5_match(clauses: Sequence[Sequence[Term]], excluded: Sequence[Term] = (), parts: bool = True) -> str:
    """An FTS5 MATCH expression: every clause, none of `excluded` (`clauses` must not be empty)."""
    out = " AND ".join("(" + " OR ".join(_fts5_term(x, parts) for x in clause) + ")" for clause in clauses)
    if excluded:
        out = f"({out}) NOT (" + " OR ".join(_fts5_term(x, parts) for x in excluded) + ")"
    return out


def _ts_term(term: Term, parts: bool = True) -> str:
    weight = _WEIGHTS[term.part] if parts else ""
    lexemes = []
    for index, value in enumerate(term.terms):
        star = "*" if term.prefix and index == len(term.terms) - 1 else ""
        label = f":{star}{weight}" if star or weight else ""  # 'alv':*A - the prefix mark, then the weights
        lexemes.append(f"'{lexeme_quoted(value)}'{label}")
    return "(" + " <-> ".join(lexemes) + ")"


def tsquery(clauses: Sequence[Sequence[Term]], excluded: Sequence[Term] = (), parts: bool = True) -> str:
    """A tsquery literal: every clause, none of `excluded`."""
    out = " & ".join("(" + " | ".join(_ts_term(x, parts) for x in clause) + ")" for clause in clauses)
    if excluded:
        out = f"({out}) & !(" + " | ".join(_ts_term(x, parts) for x in excluded) + ")"
    return out


def _language(connection: Connection) -> str:
    found = connection.execute(select(t.search_index.c.language).where(t.search_index.c.id == 1)).scalar()
    return str(found) if found else DEFAULT_LANGUAGE


class SearchStatements:
    """Writing the index, inside the transaction that stores what it indexes."""

    connection: Connection
    _search_analyzer: Analyzer | None = None

    def _analyzer(self) -> Analyzer:
        language = _language(self.connection)
        cached = SearchStatements._search_analyzer
        if cached is None or cached.language != language:
            # shared by every transaction: its memo of stems is what makes indexing cheap
            cached = SearchStatements._search_analyzer = Analyzer(language)
        return cached

    def search_language(self) -> str:
        return _language(self.connection)

    def search_vectors(self) -> bool:
        return self.connection.dialect.name == "postgresql"

    def index_messages(self, message_ids: Iterable[int], known: Mapping[int, IndexedText] | None = None) -> int:
        """(Re)index these stored messages; returns how many. `known`: terms already made for some of them
        (by the process that read them); used when they are in the index's language, made here otherwise."""
        wanted = sorted(set(message_ids))
        if not wanted:
            return 0
        analyzer = self._analyzer()
        ready = {i: x for i, x in (known or {}).items() if x.language == analyzer.language}
        m = t.messages.c
        done = 0
        for start in range(0, len(wanted), _CHUNK):
            chunk = wanted[start : start + _CHUNK]
            missing = [i for i in chunk if i not in ready]
            rows = (
                self.connection.execute(
                    select(m.id, m.from_name, m.from_email, m.to, m.cc, m.subject, m.text, m.attachments).where(
                        m.id.in_(missing)
                    )
                ).all()
                if missing
                else []
            )
            documents = [(i, ready[i]) for i in chunk if i in ready]
            documents += [
                (row.id, IndexedText.of(analyzer.language, message_terms(analyzer, message_text(row)))) for row in rows
            ]
            if self.connection.dialect.name == "sqlite":
                self.forget_messages(chunk)
            if documents and self.connection.dialect.name == "sqlite":
                self.connection.execute(
                    text(
                        "INSERT INTO search_messages (rowid, sender, recipients, subject, body) "
                        "VALUES (:id, :sender, :recipients, :subject, :body)"
                    ),
                    [dict(zip(("id", *PARTS), (i, *x.parts), strict=True)) for i, x in documents],
                )
            elif documents:
                self.connection.execute(
                    text(
                        "INSERT INTO search_messages (message_id, document) VALUES (:id, CAST(:doc AS tsvector)) "
                        "ON CONFLICT (message_id) DO UPDATE SET document = EXCLUDED.document"
                    ),
                    [{"id": i, "doc": x.vector if x.vector is not None else tsvector(x.terms())} for i, x in documents],
                )
            done += len(documents)
        return done

    def index_contacts(self, contact_ids: Iterable[int]) -> int:
        """(Re)index these contacts: name, addresses (with aliases), company, text fields; returns how many
        were written (on SQLite, a contact indexed as it is now is left alone)."""
        wanted = sorted(set(contact_ids))
        if not wanted:
            return 0
        analyzer = self._analyzer()
        c, co = t.contacts.c, t.companies.c
        done = 0
        for start in range(0, len(wanted), _CHUNK):
            chunk = wanted[start : start + _CHUNK]
            texts: dict[int, list[str]] = {}
            for row in self.connection.execute(
                select(c.id, c.name, c.email, co.name.label("company"), co.domain)
                .outerjoin(t.companies, co.id == c.company_id)
                .where(c.id.in_(chunk))
            ):
                texts[row.id] = [row.name, row.email, row.company or "", row.domain or ""]
            for alias in self.connection.execute(
                select(t.contact_aliases.c.contact_id, t.contact_aliases.c.email).where(
                    t.contact_aliases.c.contact_id.in_(chunk)
                )
            ):
                texts.get(alias.contact_id, []).append(alias.email)
            for value in self.connection.execute(
                select(t.contact_fields.c.contact_id, t.contact_fields.c.value).where(
                    t.contact_fields.c.contact_id.in_(chunk), t.contact_fields.c.number.is_(None)
                )
            ):
                texts.get(value.contact_id, []).append(value.value)
            documents = [(i, analyzer.terms("\n".join(parts))) for i, parts in texts.items()]
            if self.connection.dialect.name == "sqlite":
                # most contacts of a batch of mail are indexed already, as they are: only changes are written
                indexed = self._indexed_contacts(chunk)
                documents = [(i, terms) for i, terms in documents if indexed.get(i) != " ".join(terms)]
                gone = [i for i in chunk if i in indexed and i not in texts]
                self.forget_contacts(gone + [i for i, _ in documents if i in indexed])
            else:
                self.forget_contacts(chunk)
            if documents and self.connection.dialect.name == "sqlite":
                self.connection.execute(
                    text("INSERT INTO search_contacts (rowid, body) VALUES (:id, :body)"),
                    [{"id": i, "body": " ".join(terms)} for i, terms in documents],
                )
            elif documents:
                self.connection.execute(
                    # an upsert: two daemons filing mail of one contact at once both find no row to replace
                    text(
                        "INSERT INTO search_contacts (contact_id, document) VALUES (:id, CAST(:doc AS tsvector)) "
                        "ON CONFLICT (contact_id) DO UPDATE SET document = EXCLUDED.document"
                    ),
                    [{"id": i, "doc": tsvector([terms], "D")} for i, terms in documents],
                )
            done += len(documents)
        return done

    def _indexed_contacts(self, contact_ids: Sequence[int]) -> dict[int, str]:
        """SQLite: the index's text of these contacts, by id."""
        found = self.connection.execute(
            text("SELECT rowid, body FROM search_contacts WHERE rowid IN (SELECT value FROM json_each(:ids))"),
            {"ids": json.dumps(list(contact_ids))},
        )
        return {int(row[0]): str(row[1]) for row in found}

    def forget_contacts(self, contact_ids: Iterable[int]) -> None:
        """Take contacts out of the index (PostgreSQL does it by itself when a contact is deleted)."""
        column = "rowid" if self.connection.dialect.name == "sqlite" else "contact_id"
        ids = [{"id": i} for i in set(contact_ids)]
        if ids:
            self.connection.execute(text(f"DELETE FROM search_contacts WHERE {column} = :id"), ids)

    def forget_messages(self, message_ids: Iterable[int]) -> None:
        """Take messages out of the index (PostgreSQL does it by itself when a message is deleted)."""
        column = "rowid" if self.connection.dialect.name == "sqlite" else "message_id"
        ids = [{"id": i} for i in set(message_ids)]
        if ids:
            self.connection.execute(text(f"DELETE FROM search_messages WHERE {column} = :id"), ids)

    def reset_search(self, language: str, now: datetime) -> None:
        """Empty the index and make `language` its language (then index everything again, in chunks)."""
        drop_search_tables(self.connection)
        create_search_tables(self.connection)
        si = t.search_index
        if self.connection.execute(select(si.c.id).where(si.c.id == 1)).first() is None:
            self.connection.execute(si.insert().values(id=1, language=language, built_at=now))
        else:
            self.connection.execute(si.update().where(si.c.id == 1).values(language=language, built_at=now))

    def claim_search_language(self, language: str, now: datetime) -> str:
        """The index's language; `language` becomes it when the index has none yet."""
        si = t.search_index
        found = self.connection.execute(select(si.c.language).where(si.c.id == 1)).scalar()
        if found is None:
            self.connection.execute(si.insert().values(id=1, language=language, built_at=now))
            return language
        return str(found)

    def ids_after(self, table: str, after_id: int, limit: int) -> list[int]:
        """Ids of `messages` or `contacts` after `after_id`, in order (for rebuilding in chunks)."""
        column = {"messages": t.messages.c.id, "contacts": t.contacts.c.id}[table]
        return [
            int(i)
            for i in self.connection.execute(
                select(column).where(column > after_id).order_by(column).limit(limit)
            ).scalars()
        ]


def _message_filters(query: SearchQuery) -> list[Any]:
    m = t.messages.c
    found: list[Any] = []
    if query.mailboxes:
        found.append(m.mailbox.in_(query.mailboxes))
    if query.not_mailboxes:
        found.append(m.mailbox.not_in(query.not_mailboxes))
    if query.after is not None:
        found.append(m.sent_at >= datetime(query.after.year, query.after.month, query.after.day, tzinfo=UTC))
    if query.before is not None:
        found.append(m.sent_at < datetime(query.before.year, query.before.month, query.before.day, tzinfo=UTC))
    if query.has_attachment is not None:
        has = func.json_array_length(m.attachments) > 0
        found.append(has if query.has_attachment else not_(has))
    if query.is_ticket is not None:
        ticket = exists().where(t.tickets.c.thread_id == m.thread_id)
        found.append(ticket if query.is_ticket else not_(ticket))
    return found


_MESSAGE_COLUMNS = (
    t.messages.c.id,
    t.messages.c.thread_id,
    t.messages.c.contact_id,
    t.messages.c.mailbox,
    t.messages.c.direction,
    t.messages.c.subject,
    t.messages.c.from_email,
    t.messages.c.from_name,
    t.messages.c.sent_at,
    t.messages.c.text,
    t.messages.c.attachments,
)


class SqlSearch:
    """Reading the index: messages and contacts matching a `SearchQuery`, newest first, a page at a time."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def language(self) -> str:
        with self.engine.connect() as connection:
            return _language(connection)

    def messages(self, query: SearchQuery, before_id: int | None, limit: int) -> list[Any]:
        """Rows of matching messages (with their text, for snippets), id descending, ids below `before_id`."""
        m = t.messages.c
        sqlite = self.engine.dialect.name == "sqlite"
        conditions = _message_filters(query)
        if not query.clauses and query.excluded:
            inner = (
                text("SELECT rowid FROM search_messages WHERE search_messages MATCH :excluded")
                if sqlite
                else text("SELECT message_id FROM search_messages WHERE document @@ CAST(:excluded AS tsquery)")
            )
            excluded = fts5_match([query.excluded]) if sqlite else tsquery([query.excluded])
            conditions.append(m.id.not_in(inner.bindparams(excluded=excluded)))
        if query.clauses:
            if sqlite:
                key = _FTS.c.rowid
                found = text("search_messages MATCH :match").bindparams(match=fts5_match(query.clauses, query.excluded))
            else:
                key = _FTS.c.message_id
                found = text("search_messages.document @@ CAST(:match AS tsquery)").bindparams(
                    match=tsquery(query.clauses, query.excluded)
                )
            stmt = select(*_MESSAGE_COLUMNS).select_from(_FTS.join(t.messages, m.id == key)).where(found)
        else:
            key = m.id
            stmt = select(*_MESSAGE_COLUMNS)
        if before_id is not None:
            conditions.append(key < before_id)
        stmt = stmt.where(and_(true(), *conditions)).order_by(key.desc()).limit(limit)
        with self.engine.connect() as connection:
            return list(connection.execute(stmt))

    def contacts(self, query: SearchQuery, limit: int) -> list[int]:
        """Ids of contacts whose name, addresses, company or text fields hold every word, newest first."""
        if not query.clauses:
            return []
        if self.engine.dialect.name == "sqlite":
            statement = text(
                "SELECT rowid FROM search_contacts WHERE search_contacts MATCH :q ORDER BY rowid DESC LIMIT :n"
            ).bindparams(q=fts5_match(query.clauses, query.excluded, parts=False), n=limit)
        else:
            statement = text(
                "SELECT contact_id FROM search_contacts WHERE document @@ CAST(:q AS tsquery) "
                "ORDER BY contact_id DESC LIMIT :n"
            ).bindparams(q=tsquery(query.clauses, query.excluded, parts=False), n=limit)
        with self.engine.connect() as connection:
            return [int(i) for i in connection.execute(statement).scalars()]
