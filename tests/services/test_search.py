"""Full-text search, one suite on SQLite (FTS5) and PostgreSQL (tsvector + GIN): the query syntax, non-English
text, snippets, paging, and the index kept in the ingest transaction and rebuilt by a command."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from inboxcrm.adapters.db.search import SqlSearch
from inboxcrm.bootstrap import App
from inboxcrm.core.model import MailboxKind, MailboxProfile
from inboxcrm.core.ports import FetchedMessage
from inboxcrm.core.search_query import QueryProblem
from inboxcrm.services.search import SearchService, rebuild
from tests.support.mail import mail

SUPPORT = MailboxProfile("support", MailboxKind.SUPPORT, frozenset({"support@northwind.example"}))
SALES = MailboxProfile("sales", MailboxKind.SALES, frozenset({"sales@northwind.example"}))


def _attachment_mail(name: str) -> bytes:
    boundary = "b1"
    return (
        "From: Dora Explorer <dora@maps.example>\r\nTo: sales@northwind.example\r\nSubject: Quote attached\r\n"
        "Message-ID: <quote-1@maps.example>\r\nDate: Tue, 03 Nov 2026 09:00:00 +0000\r\nMIME-Version: 1.0\r\n"
        f'Content-Type: multipart/mixed; boundary="{boundary}"\r\n\r\n--{boundary}\r\n'
        "Content-Type: text/plain; charset=utf-8\r\n\r\nPlease find our quote attached.\r\n"
        f'--{boundary}\r\nContent-Type: application/pdf; name="{name}"\r\n'
        f'Content-Disposition: attachment; filename="{name}"\r\nContent-Transfer-Encoding: base64\r\n\r\n'
        f"JVBERi0xLjQK\r\n--{boundary}--\r\n"
    ).encode()


CORPUS = [
    (SUPPORT, mail(subject="Invoice 2291 is wrong", body="Hello,\n\nthe invoices you sent charge us twice.\n",
                   message_id="inv@acme.example", date="Mon, 02 Nov 2026 10:00:00 +0000")),
    (SUPPORT, mail(from_="Jürgen Müller <juergen@beispiel.example>", subject="Lieferung verspätet",
                   body="Guten Tag,\n\ndie Lieferung für die Straße ist verspätet. Bitte um Rückruf.\n",
                   message_id="de@beispiel.example", date="Wed, 04 Nov 2026 10:00:00 +0000")),
    (SUPPORT, mail(from_="Zoé Lefèvre <zoe@exemple.example>", subject="Problème de facture",
                   body="Bonjour,\n\nla facture n'est pas arrivée à l'école.\n",
                   message_id="fr@exemple.example", date="Thu, 05 Nov 2026 10:00:00 +0000")),
    (SUPPORT, mail(from_="Ли Wei <wei@shop.example>", subject="发货问题",
                   body="你好，\n\n我们在东京的仓库还没有收到货物。\n",
                   message_id="zh@shop.example", date="Fri, 06 Nov 2026 10:00:00 +0000")),
    (SALES, mail(from_="Bob Stone <bob@quarry.example>", to="sales@northwind.example",
                 subject="Late delivery of the granite", body="The delivery was late again, and the granite "
                 "arrived broken.\n", message_id="late@quarry.example", date="Sat, 07 Nov 2026 10:00:00 +0000")),
    (SALES, mail(from_="Bob Stone <bob@quarry.example>", to="sales@northwind.example",
                 subject="Delivery questions", body="Was the delivery late? Our late fees apply.\n",
                 message_id="late2@quarry.example", date="Sun, 08 Nov 2026 10:00:00 +0000")),
    (SALES, _attachment_mail("Angebot-Übersicht.pdf")),
]  # fmt: skip


def _store(app: App) -> SearchService:
    for uid, (mailbox, raw) in enumerate(CORPUS, 1):
        result = app.ingest.ingest_batch(mailbox, "INBOX", 1, [FetchedMessage(uid, raw)])
        assert result.stored == 1, result.errors
    return SearchService(SqlSearch(app.engine), language_ttl=0)  # a rebuild's new language is seen at once


def subjects(service: SearchService, query: str) -> list[str]:
    import html
    import re

    return [html.unescape(re.sub(r"</?mark>", "", hit.subject)) for hit in service.search(query).messages]


def test_the_query_syntax_finds_the_same_on_both_databases(app: App) -> None:
    service = _store(app)
    # words are stemmed: "invoice" finds "invoices"; every word must be there
    assert subjects(service, "invoice") == ["Invoice 2291 is wrong"]
    assert subjects(service, "invoices twice") == ["Invoice 2291 is wrong"]
    assert subjects(service, "invoice granite") == []
    # a phrase needs its words in order, next to each other
    assert subjects(service, '"late delivery"') == ["Late delivery of the granite"]
    assert subjects(service, '"delivery late"') == ["Delivery questions"]
    # OR, exclusion, prefix
    assert subjects(service, "granite OR invoice") == ["Late delivery of the granite", "Invoice 2291 is wrong"]
    assert subjects(service, "delivery -granite") == ["Delivery questions"]
    assert subjects(service, "gran*") == ["Late delivery of the granite"]
    # operators
    assert subjects(service, "from:bob delivery") == ["Delivery questions", "Late delivery of the granite"]
    assert subjects(service, "from:quarry.example -subject:questions") == ["Late delivery of the granite"]
    assert subjects(service, "to:sales@northwind.example has:attachment") == ["Quote attached"]
    assert subjects(service, "mailbox:support is:ticket invoice") == ["Invoice 2291 is wrong"]
    assert subjects(service, "mailbox:sales -is:ticket late") == ["Delivery questions", "Late delivery of the granite"]
    assert subjects(service, "after:2026-11-07 before:2026-11-08") == ["Late delivery of the granite"]
    assert subjects(service, "-has:attachment after:2026-11-08") == ["Delivery questions"]
    # attachment names are searched
    assert subjects(service, "angebot") == ["Quote attached"]


def test_non_english_text_is_found_folded_and_by_character(app: App) -> None:
    service = _store(app)
    # accents and case fold: Müller = muller, Straße = strasse, école = ecole, Lefèvre = lefevre
    assert subjects(service, "muller") == ["Lieferung verspätet"]
    assert subjects(service, "STRASSE verspatet") == ["Lieferung verspätet"]
    assert subjects(service, "from:lefevre ecole") == ["Problème de facture"]
    # Chinese is written without spaces: any run of characters is found, as a phrase
    assert subjects(service, "东京") == ["发货问题"]
    assert subjects(service, "仓库") == ["发货问题"]
    assert subjects(service, "京东") == []


def test_snippets_mark_the_words_found_and_escape_the_rest(app: App) -> None:
    raw = mail(subject="<b>Refund</b> please", body="We want a refund & an apology.\n", message_id="x@y.example")
    app.ingest.ingest_batch(SUPPORT, "Other", 1, [FetchedMessage(1, raw)])
    hit = SearchService(SqlSearch(app.engine)).search("refunds").messages[0]
    assert hit.subject == "&lt;b&gt;<mark>Refund</mark>&lt;/b&gt; please"
    assert "a <mark>refund</mark> &amp; an apology" in hit.snippet
    phrase = _store(app).search('"late delivery"').messages[0]
    assert "<mark>late delivery</mark>" in phrase.subject.lower()


def test_pages_follow_each_other_and_contacts_are_found(app: App) -> None:
    service = _store(app)
    first = service.search("delivery OR invoice OR angebot OR facture", limit=2)
    assert len(first.messages) == 2 and first.next_cursor is not None
    rest = service.search("delivery OR invoice OR angebot OR facture", cursor=first.next_cursor, limit=10)
    seen = [h.id for h in first.messages + rest.messages]
    assert len(seen) == len(set(seen)) == 5 and rest.next_cursor is None
    assert seen == sorted(seen, reverse=True)
    found = service.search("muller").contact_ids
    with app.engine.connect() as connection:
        from sqlalchemy import select

        from inboxcrm.adapters.db import tables as t

        emails = connection.execute(select(t.contacts.c.email).where(t.contacts.c.id.in_(found))).scalars().all()
    assert emails == ["juergen@beispiel.example"]


def test_bad_queries_say_what_is_wrong(app: App) -> None:
    service = _store(app)
    with pytest.raises(QueryProblem, match=r"did you mean from:"):
        service.search("frm:ana")
    with pytest.raises(QueryProblem, match="2024-05-31"):
        service.search("before:yesterday")
    with pytest.raises(QueryProblem, match="attachment"):
        service.search("has:pdf")
    assert subjects(service, "10:30") == []  # text with a colon is text


def test_rebuild_builds_the_index_again_in_another_language(app: App) -> None:
    service = _store(app)
    assert subjects(service, "charges") == ["Invoice 2291 is wrong"]
    done = rebuild(app.store, "none", datetime(2026, 11, 9, tzinfo=UTC))
    assert done.messages == len(CORPUS)
    assert subjects(service, "charges") == []  # no stemming now: only the word as written
    assert subjects(service, "charge") == ["Invoice 2291 is wrong"]
    rebuild(app.store, "english", datetime(2026, 11, 9, tzinfo=UTC))
    assert subjects(service, "charges") == ["Invoice 2291 is wrong"]


def _index_rows(app: App) -> list[tuple[object, ...]]:
    from sqlalchemy import text

    query = (
        "SELECT rowid, sender, recipients, subject, body FROM search_messages ORDER BY rowid"
        if app.engine.dialect.name == "sqlite"
        else "SELECT message_id, document::text FROM search_messages ORDER BY message_id"
    )
    with app.engine.connect() as conn:
        return [tuple(row) for row in conn.execute(text(query))]


def test_terms_made_where_mail_is_read_index_it_as_a_rebuild_does(app: App) -> None:
    # the parsing processes make each message's terms from the parsed message; a rebuild makes them from
    # the stored row: a search must find the same either way (names, Cc, attachment names, other scripts)
    cc_mail = mail(
        from_="Ana Ruiz <ana@ruiz.example>", to="Support <support@northwind.example>", cc="Ole Øby <ole@oby.example>",
        subject="Fwd: Öffnungszeiten", body="Forwarding: the shop opens at nine.\n", message_id="cc@ruiz.example",
    )  # fmt: skip
    _store(app)
    assert app.ingest.ingest_batch(SUPPORT, "INBOX", 1, [FetchedMessage(99, cc_mail)]).stored == 1
    as_ingested = _index_rows(app)
    assert len(as_ingested) == len(CORPUS) + 1
    rebuild(app.store, "english", datetime(2026, 11, 9, tzinfo=UTC))
    assert _index_rows(app) == as_ingested


def test_a_contact_is_found_by_what_it_is_now_after_more_mail(app: App) -> None:
    # the contacts of each batch of mail are indexed again: a change shows, what is unchanged stays found
    service = _store(app)
    (contact_id,) = service.search("jurgen").contact_ids
    with app.store.transaction() as tx:
        tx.set_contact_name(contact_id, "Jörg Müller-Lüdenscheidt")
        tx.index_contacts([contact_id, *service.search("bob").contact_ids])
    assert service.search("lüdenscheidt").contact_ids == service.search("jorg").contact_ids == (contact_id,)
    assert service.search("jurgen").contact_ids == ()
    assert len(service.search("bob").contact_ids) == 1
