"""Rule conditions: every condition (mailbox, kind, direction, addresses, subject, body, headers, attachments,
contact, weekday and time, all/any/not), each with messages it matches and messages it does not."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from inboxcrm.core.rules import ContactFacts, evaluate, explain
from tests.core.rules_support import NOW, compiled, facts, rule, with_attachments
from tests.support.mail import mail

AT = {
    "mon_10": NOW,
    "mon_23_30": NOW.replace(hour=23, minute=30),
    "mon_07_59": NOW.replace(hour=7, minute=59),
    "sat_12": NOW + timedelta(days=5, hours=2),
}
GMAIL = "Jürgen <juergen@gmail.com>"
NO_CONTACT: dict[str, Any] = {"contact": None}

CONDITIONS: list[Any] = [
    # mailbox, mailbox kind, kind, direction
    ('when.mailbox = "support"', {}, True),
    ('when.mailbox = "SUPPORT"', {}, True),
    ('when.mailbox = ["sales"]', {}, False),
    ('when.mailbox_kind = "sales"', {"mailbox_kind": "sales"}, True),
    ('when.mailbox_kind = "sales"', {}, False),
    ('when.kind = ["auto_reply", "bounce"]', {"kind": "bounce"}, True),
    ('when.kind = "auto_reply"', {}, False),
    ('when.direction = "out"', {"direction": "out"}, True),
    ('when.direction = "out"', {}, False),
    # from: address, glob, domain and subdomains, free mail
    ('when.from = "carol@acme-corp.example"', {}, True),
    ('when.from = "Carol@ACME-corp.example"', {}, True),
    ('when.from = "*@acme-corp.example"', {}, True),
    ('when.from = "bob@*"', {}, False),
    ('when.from = "acme-corp.example"', {}, True),
    ('when.from = "acme-corp.example"', {"from_": "x@eu.acme-corp.example"}, True),
    ('when.from = "corp.example"', {}, False),
    ('when.from = "eu.acme-corp.example"', {}, False),
    ('when.from.domain = "acme-*"', {}, True),
    ('when.from.domain = "*.acme-corp.example"', {}, False),
    ('when.from.address = ["bob@acme-corp.example", "dave@x.example"]', {}, False),
    ('when.from = { address = "*@acme-corp.example", domain = "acme-corp.example" }', {}, True),
    ("when.from.free_mail = true", {"from_": GMAIL}, True),
    ("when.from.free_mail = true", {}, False),
    ("when.from.free_mail = false", {}, True),
    ("when.from.free_mail = false", {"from_": GMAIL}, False),
    # to, cc, recipients: any one address
    ('when.to = "support@northwind.example"', {}, True),
    ('when.to = "northwind.example"', {"to": "a@x.example, support@northwind.example"}, True),
    ('when.to.domain = "*.example"', {}, True),
    ('when.cc = "ana@northwind.example"', {"cc": "Ana <ana@northwind.example>"}, True),
    ('when.cc = "ana@northwind.example"', {}, False),
    ('when.recipients = "ana@*"', {"cc": "ana@northwind.example"}, True),
    ('when.recipients = "ana@*"', {}, False),
    # subject: every text test, case-insensitive by default
    ('when.subject = "fire"', {}, True),
    ('when.subject = ["water", "FIRE"]', {}, True),
    ('when.subject.contains = "water"', {}, False),
    ('when.subject.contains_all = ["printer", "fire"]', {}, True),
    ('when.subject.contains_all = ["printer", "water"]', {}, False),
    ('when.subject.contains_word = "fire"', {}, True),
    ('when.subject.contains_word = "fir"', {}, False),
    ('when.subject.contains_word = "c++"', {"subject": "Help with C++ build"}, True),
    ("when.subject.regex = '^printer\\s+on'", {}, True),
    ("when.subject.regex = ['^fire', 'on f']", {}, True),
    ("when.subject.regex = '^on'", {}, False),
    ('when.subject.equals = " printer on fire "', {}, True),
    ('when.subject.equals = "printer"', {}, False),
    ('when.subject.starts_with = ["re:", "print"]', {}, True),
    ('when.subject.ends_with = "fire"', {}, True),
    ('when.subject.ends_with = "printer"', {}, False),
    ('when.subject = { contains = "Printer", case_sensitive = true }', {}, True),
    ('when.subject = { contains = "printer", case_sensitive = true }', {}, False),
    ('when.subject = { regex = "PRINTER", case_sensitive = true }', {}, False),
    ('when.subject = { contains = "printer", regex = "f.re$" }', {}, True),
    # body: the new text when the analysis gave one
    ('when.body = "on fire again"', {}, True),
    ('when.body = "on fire again"', {"new_text": "Thanks, all good now."}, False),
    ('when.body = "all good"', {"new_text": "Thanks, all good now."}, True),
    ("when.body.regex = '\\bagain\\b'", {}, True),
    # headers
    ('when.header."X-Priority" = "1"', {"headers": {"X-Priority": "1 (Highest)"}}, True),
    ('when.header.x-priority = { starts_with = "1" }', {"headers": {"X-Priority": "1 (Highest)"}}, True),
    ('when.header."X-Priority" = { equals = "1" }', {"headers": {"X-Priority": "1 (Highest)"}}, False),
    ('when.header."X-Priority".exists = true', {"headers": {"X-Priority": "1"}}, True),
    ('when.header."X-Priority".exists = true', {}, False),
    ('when.header."In-Reply-To" = { exists = false }', {}, True),
    ('when.header."In-Reply-To" = { exists = false }', {"in_reply_to": "a@b"}, False),
    ("when.header.X-Missing = { regex = '^$' }", {}, False),
    ('when.header = { "X-Mailer" = "outlook", "X-Priority" = "1" }', {"headers": {"X-Mailer": "Outlook 16"}}, False),
    # contact
    ('when.contact.has_tag = ["vip", "gold"]', {}, True),
    ('when.contact.has_tag = "gold"', {}, False),
    ('when.contact.lacks_tag = "gold"', {}, True),
    ('when.contact.lacks_tag = ["gold", "beta"]', {}, False),
    ("when.contact.score_at_least = 42", {}, True),
    ("when.contact.score_at_least = 42.5", {}, False),
    ("when.contact.score_at_most = 10", {}, False),
    ('when.contact.stage = ["lead", "mql"]', {}, True),
    ('when.contact.stage = "customer"', {}, False),
    ("when.contact.company = true", {}, True),
    ("when.contact.company = false", {}, False),
    ('when.contact.company = "acme-corp.example"', {}, True),
    ('when.contact.company = "globex.example"', {}, False),
    # without a contact every contact test fails, even the negative ones
    ('when.contact.lacks_tag = "gold"', NO_CONTACT, False),
    ("when.contact.score_at_most = 100", NO_CONTACT, False),
    ("when.contact.company = false", NO_CONTACT, False),
    # weekday and time, in the facts' timezone
    ('when.weekday = "monday"', {}, True),
    ('when.weekday = ["mon", "tue"]', {}, True),
    ('when.weekday = "weekend"', {}, False),
    ('when.weekday = "weekend"', {"now": AT["sat_12"]}, True),
    ('when.weekday = "weekdays"', {"now": AT["sat_12"]}, False),
    ('when.weekday = "tue"', {"now": AT["mon_23_30"], "timezone": "Europe/Berlin"}, True),
    ('when.time = { after = "09:00", before = "17:00" }', {}, True),
    ('when.time = { after = "10:01" }', {}, False),
    ('when.time.before = "10:00"', {}, False),
    ('when.time.after = "10:00"', {}, True),
    ('when.time = { after = "18:00", before = "08:00" }', {}, False),
    ('when.time = { after = "18:00", before = "08:00" }', {"now": AT["mon_23_30"]}, True),
    ('when.time = { after = "18:00", before = "08:00" }', {"now": AT["mon_07_59"]}, True),
    ("when.time = { after = 09:00:00, before = 17:00:00 }", {}, True),
    ('when.time.after = "23:00"', {"now": AT["mon_23_30"].replace(tzinfo=None)}, True),
    # combinators, nested
    ('when.all = [{ subject = "fire" }, { from = "acme-corp.example" }]', {}, True),
    ('when.all = [{ subject = "fire" }, { from = "globex.example" }]', {}, False),
    ('when.any = [{ subject = "water" }, { from = "acme-corp.example" }]', {}, True),
    ('when.any = [{ subject = "water" }, { from = "globex.example" }]', {}, False),
    ('when.not.subject = "water"', {}, True),
    ('when.not = { subject = "fire", from = "globex.example" }', {}, True),
    ('when.not.any = [{ subject = "water" }, { kind = "normal" }]', {}, False),
    (
        'when.any = [{ all = [{ subject = "fire" }, { not.contact.has_tag = "vip" }] }, { mailbox = "sales" }]',
        {},
        False,
    ),
    (
        'when.any = [{ all = [{ subject = "fire" }, { not.contact.has_tag = "vip" }] }, { mailbox = "sales" }]',
        {"contact": ContactFacts("x@y.example")},
        True,
    ),
    ("when = {}", {}, True),
    ("", {}, True),
]


@pytest.mark.parametrize(("when", "given", "expected"), CONDITIONS, ids=[f"{w} {g}" for w, g, _ in CONDITIONS])
def test_condition(when: str, given: dict[str, Any], expected: bool) -> None:
    given = dict(given)
    raw = None
    if "in_reply_to" in given:
        raw = mail(in_reply_to=given.pop("in_reply_to"))
    decision = evaluate(compiled(rule(when)), facts(raw, **given))
    assert bool(decision.matches) is expected, explain(decision)
    if expected:
        assert decision.matches[0].because and all(decision.matches[0].because)
    assert decision.problems == ()


ATTACHMENTS: list[Any] = [
    ("when.attachment = true", [("invoice-1042.pdf", "application/pdf")], True),
    ("when.attachment = true", [], False),
    ("when.attachment = false", [], True),
    ('when.attachment.filename = "*.PDF"', [("Invoice-1042.pdf", "application/pdf")], True),
    ('when.attachment.filename = ["invoice*", "rechnung*"]', [("photo.jpg", "image/jpeg")], False),
    ('when.attachment.content_type = "image/*"', [("a.pdf", "application/pdf"), ("b.png", "image/png")], True),
    ('when.attachment = { filename = "*.pdf", content_type = "image/*" }', [("a.pdf", "application/pdf")], False),
    (
        'when.attachment = { filename = "*.png", content_type = "image/*" }',
        [("a.pdf", "application/pdf"), ("b.png", "image/png")],
        True,
    ),
]


@pytest.mark.parametrize(("when", "files", "expected"), ATTACHMENTS)
def test_attachment_condition(when: str, files: list[tuple[str, str]], expected: bool) -> None:
    decision = evaluate(compiled(rule(when)), facts(with_attachments(*files)))
    assert bool(decision.matches) is expected


def test_a_header_that_occurs_twice_is_tested_value_by_value() -> None:
    raw = mail(headers={"Received": "from a.example"}).replace(
        b"Received: from a.example\r\n", b"Received: from a.example\r\nReceived: from b.example\r\n"
    )
    for when, expected in [
        ('when.header.received = { equals = "from b.example" }', True),
        ('when.header.received = { starts_with = "from b" }', True),
        ('when.header.received = "a.example"', True),
        ('when.header.received = { equals = "from c.example" }', False),
    ]:
        assert bool(evaluate(compiled(rule(when)), facts(raw)).matches) is expected, when


def test_an_unknown_timezone_is_reported_not_raised() -> None:
    decision = evaluate(compiled(rule('when.weekday = "mon"')), facts(timezone="Mars/Olympus"))
    assert decision.matches and decision.problems == ("unknown timezone 'Mars/Olympus': weekday and time read in UTC",)
