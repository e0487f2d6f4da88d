"""A campaign step's mail as each contact receives it (services/campaign_mail.py, `StepMail`): written once per
step and filled per contact, read back with the standard library as a mail client would."""

from __future__ import annotations

import dataclasses
import email
import email.policy
import re
from datetime import UTC, datetime, timedelta
from email.header import decode_header, make_header
from email.message import EmailMessage
from email.utils import parsedate_to_datetime
from pathlib import Path

import pytest

from inboxcrm.adapters.templates import TemplateError, Templates
from inboxcrm.core.campaigns import Campaign, Step, Trigger
from inboxcrm.core.loops import OUR_HEADER
from inboxcrm.core.model import Address
from inboxcrm.core.outgoing import compose, one_line
from inboxcrm.core.ports import Recipient
from inboxcrm.core.unsubscribe import read_unsubscribe_token
from inboxcrm.services.campaign_mail import StepMail

SECRET = b"campaign-mail-secret"
PUBLIC = "https://crm.northwind.example"
NOW = datetime(2026, 3, 2, 9, 15, tzinfo=UTC)
POSTAL = "Northwind GmbH, Hauptstraße 1, 10115 Berlin"
CAMPAIGN = Campaign(
    name="spring",
    file="campaigns/spring.toml",
    line=1,
    description="Spring offers",
    sender=Address("sales@northwind.example", "Northwind Vertrieb · Süd"),
    reply_to="hello@northwind.example",
    timezone="Europe/Berlin",
    postal_address=POSTAL,
    trigger=Trigger("manual"),
    steps=(Step(1, timedelta(0), "campaigns/offer", 1), Step(2, timedelta(days=2), "campaigns/plain", 2)),
)
TEMPLATES = {
    "offer.subject.j2": "Frühling für {{ contact.first_name or 'Sie' }} – 20 % auf {{ contact.fields.plan or 'free' }}",
    "offer.text.j2": "Hallo {{ contact.first_name }},\n\n{{ company.name if company else 'home' }}\n{{ 'ß' * 700 }}\n",
    "offer.html.j2": "<html><body><p>Hallo {{ contact.name }} &amp; co</p></body></html>\n",
    "plain.subject.j2": "Step {{ campaign.step }} of {{ campaign.steps }}",
    "plain.text.j2": "Hello {{ contact.email }}\n",
    "broken.subject.j2": "x",
    "broken.text.j2": "{{ contact.name.split()[1] }}\n",
}


def person(contact_id: int, email: str, name: str, company: str | None = None, **fields: str) -> Recipient:
    domain = email.partition("@")[2] if company else None
    return Recipient(
        contact_id, email, name, company, domain, False, None, frozenset(), "lead", 1.0, False, False, fields
    )


PEOPLE = [
    person(1, "zoe@example.org", "Zoë Ångström", "Ångström AB", plan="pro"),
    person(2, "ken@example.jp", "渡辺 健"),
    person(3, "pat@example.com", 'O\'Brien, "Pat"'),
    person(4, "anon@example.com", ""),
]
_BOUNDARY = re.compile(rb"={15}\d+==")


@pytest.fixture
def templates(tmp_path: Path) -> Templates:
    folder = tmp_path / "campaigns"
    folder.mkdir()
    for name, text in TEMPLATES.items():
        (folder / name).write_text(text, encoding="utf-8")
    return Templates(tmp_path)


def writer(templates: Templates, step: int = 1, public: str = PUBLIC, campaign: Campaign = CAMPAIGN) -> StepMail:
    return StepMail(campaign, step, templates, SECRET, public, NOW)


def parsed(raw: bytes) -> EmailMessage:
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    assert not message.defects and all(not p.defects for p in message.walk())
    return message


def wire_ok(raw: bytes) -> bool:
    """7-bit, CRLF only, no line over RFC 5322's 998 characters."""
    return raw.isascii() and b"\n" not in raw.replace(b"\r\n", b"") and max(map(len, raw.split(b"\r\n"))) <= 998


def test_each_contact_gets_their_own_names_subject_link_and_footer(templates: Templates) -> None:
    step = writer(templates)
    for n, person in enumerate(PEOPLE):
        mail = step.mail(person, 40 + n, f"<m{n}@northwind.example>")
        assert (mail.key, mail.recipients, mail.contact_id) == (
            f"campaign-spring-{n + 1}-1-{40 + n}",
            (person.email,),
            n + 1,
        )
        assert (mail.campaign, mail.step, mail.enrolment_id, mail.message_id) == ("spring", 1, 40 + n, mail.message_id)
        assert wire_ok(mail.raw)
        message = parsed(mail.raw)
        (to,) = message["To"].addresses
        assert (to.display_name, to.addr_spec) == (person.name, person.email)
        (sender,) = message["From"].addresses
        assert (sender.display_name, sender.addr_spec) == ("Northwind Vertrieb · Süd", "sales@northwind.example")
        assert str(message["Reply-To"]) == "hello@northwind.example"
        first = person.name.split()[0] if person.name else "Sie"
        plan = person.fields.get("plan") or "free"
        assert message["Subject"] == f"Frühling für {first} – 20 % auf {plan}"
        assert parsedate_to_datetime(str(message["Date"])) == NOW
        assert message["Message-ID"] == f"<m{n}@northwind.example>"
        assert message["Precedence"] == "bulk" and message[OUR_HEADER] == mail.key
        # the unsubscribe link is this contact's, signed: it names their address and the campaign
        link, mailto = (part.strip().strip("<>") for part in str(message["List-Unsubscribe"]).split(","))
        token = link.removeprefix(f"{PUBLIC}/unsubscribe/")
        assert read_unsubscribe_token(token, SECRET) == (person.email, "spring")
        assert mailto == f"mailto:sales@northwind.example?subject=unsubscribe%20{token}"
        assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        text, html = message.get_body(("plain",)), message.get_body(("html",))
        assert text is not None and html is not None
        body = text.get_content().replace("\r\n", "\n")
        assert body.startswith(f"Hallo {first if person.name else ''},\n\n")
        assert "ß" * 700 in body  # a line longer than 998 bytes on the wire, soft-broken by quoted-printable
        assert body.endswith(f"\n\n-- \nUnsubscribe: {link}\n{POSTAL}\n")
        page = html.get_content()
        assert f'<a href="{link}">Unsubscribe</a>' in page and POSTAL in page and "&amp; co" in page
        assert text["Content-Transfer-Encoding"] == "quoted-printable"


def test_two_contacts_never_share_a_link_a_key_or_a_message_id(templates: Templates) -> None:
    step = writer(templates, 2)
    mails = [step.mail(p, 7, f"<{p.contact_id}.x@northwind.example>") for p in PEOPLE]
    messages = [parsed(m.raw) for m in mails]
    assert len({str(m["Message-ID"]) for m in messages}) == len({m.key for m in mails}) == len(PEOPLE)
    links = [str(m["List-Unsubscribe"]).split(">")[0] for m in messages]
    assert len(set(links)) == len(PEOPLE)
    for message, link in zip(messages, links, strict=True):
        text = message.get_body(("plain",))
        assert text is not None and message.get_body(("html",)) is None  # step 2 has no HTML template
        footer = text.get_content()
        assert link.removeprefix("<") in footer and sum(other.removeprefix("<") in footer for other in links) == 1
        assert message["Subject"] == "Step 2 of 2"


def test_the_step_writer_writes_what_compose_writes_from_the_contacts_draft(templates: Templates) -> None:
    for number in (1, 2):
        step = writer(templates, number)
        for person in PEOPLE:
            raw = step.mail(person, 3, "<same@northwind.example>").raw
            again = compose(step.draft(person, 3), "<same@northwind.example>", NOW)
            assert _BOUNDARY.sub(b"B", raw) == _BOUNDARY.sub(b"B", again)


def test_a_long_non_ascii_subject_and_name_stay_within_the_line_limits(templates: Templates) -> None:
    person = dataclasses.replace(
        PEOPLE[0], email="long@example.org", name="Ünïcödé " * 40 + "😀", fields={"plan": "€" * 300}
    )
    raw = writer(templates).mail(person, 1, "<long@northwind.example>").raw
    assert wire_ok(raw)
    header = raw.split(b"\r\n\r\n", 1)[0]
    # lines holding encoded words stay within RFC 2047's 76 characters
    assert all(len(line) <= 76 for line in header.split(b"\r\n") if b"=?utf-8?" in line and b"<" not in line)
    message = parsed(raw)
    # cut to 200 characters (the emoji is past them); read as RFC 2047 says, exactly; the stdlib's address
    # parser keeps the folding whitespace between encoded words, so it reads an extra space between words
    name = one_line(person.name, 200)
    to = re.search(rb"\r\nTo: (.*?) <long@example.org>", header, re.S)
    assert to is not None and str(make_header(decode_header(to.group(1).decode()))) == name
    assert " ".join(message["To"].addresses[0].display_name.split()) == name.strip()
    assert message["Subject"] == f"Frühling für Ünïcödé – 20 % auf {'€' * 300}"


def test_without_https_there_is_no_one_click_but_both_ways_out(templates: Templates) -> None:
    message = parsed(writer(templates, public="http://127.0.0.1:8025").mail(PEOPLE[0], 1, "<d@n.example>").raw)
    assert message["List-Unsubscribe-Post"] is None
    assert str(message["List-Unsubscribe"]).startswith("<http://127.0.0.1:8025/unsubscribe/")
    assert "<mailto:sales@northwind.example?subject=unsubscribe%20" in str(message["List-Unsubscribe"])


def test_a_template_that_fails_for_a_contact_raises_instead_of_writing_half_a_mail(templates: Templates) -> None:
    broken = dataclasses.replace(CAMPAIGN, steps=(Step(1, timedelta(0), "campaigns/broken", 1),))
    step = writer(templates, campaign=broken)
    assert parsed(step.mail(PEOPLE[0], 1, "<ok@n.example>").raw).get_body(("plain",)) is not None
    with pytest.raises(TemplateError, match=r"broken\.text\.j2:1"):
        step.mail(PEOPLE[3], 2, "<no@n.example>")  # no name: no second word to show
    with pytest.raises(RuntimeError, match="secret"):
        StepMail(CAMPAIGN, 1, templates, None, PUBLIC, NOW)
