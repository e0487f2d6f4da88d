"""The simple writer (core/mime_writer.py) makes the message the stdlib composer makes, as any reader sees it."""

from __future__ import annotations

import email
import email.policy
import re
from datetime import UTC, datetime
from email.header import decode_header, make_header
from email.message import EmailMessage

from hypothesis import given, settings
from hypothesis import strategies as st

from inboxcrm.core.model import Address
from inboxcrm.core.outgoing import Draft, compose, compose_simple, compose_with_stdlib, one_line

WHEN = datetime(2024, 5, 1, 12, 30, tzinfo=UTC)
_BOUNDARY = re.compile(rb"={15}\d+==")

names = st.sampled_from(["", "Ana", "Jöhn Dœ", "O'Brien, Pat", 'Say "hi"', "Support via Acme", "東京 サポート", "a.b"])
texts = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\r"), max_size=300) | st.sampled_from(
    ["Hello,\n\nthanks.\n", "x" * 2000, "ünïcödé € \n" * 40, "tab\there =3D ?= .\n.\n"]
)
subjects = st.sampled_from(["Your invoice", "Réponse: über 300 €", "[#12] Customer replied: x", "", "a " * 500])


def _parsed(raw: bytes) -> EmailMessage:
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


def _reading(raw: bytes) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """Every header as decoded, in order, and every part as (type, decoded text)."""
    message = _parsed(raw)
    # header values compared as a reader sees them: folding whitespace (where a writer broke a long line,
    # the stdlib sometimes right after the colon) carries no meaning (RFC 5322 3.2.2)
    headers = [
        (k, " ".join(str(v).split())) for k, v in message.items() if k != "Content-Type" or "boundary" not in str(v)
    ]
    parts = [(p.get_content_type(), p.get_content()) for p in message.walk() if not p.is_multipart()]
    return headers, parts


@settings(max_examples=150, deadline=None)
@given(
    sender=names,
    to=st.lists(names, min_size=1, max_size=3),
    subject=subjects,
    text=texts,
    html=st.none() | texts,
    automatic=st.sampled_from([None, "auto-replied"]),
    references=st.lists(st.sampled_from(["<a@x.example>", "b@y.example", f"<{'r' * 60}@z.example>"]), max_size=20),
)
def test_the_simple_writer_reads_like_the_stdlib(
    sender: str, to: list[str], subject: str, text: str, html: str | None, automatic: str | None, references: list[str]
) -> None:
    draft = Draft(
        key="notify:1:2:ana",
        kind="notification",
        sender=Address("support@acme.example", sender),
        to=tuple(Address(f"agent{i}@acme.example", n) for i, n in enumerate(to)),
        subject=subject,
        text=text,
        html=html,
        reply_to=("support+r.abc@acme.example",),
        in_reply_to="parent@customer.example" if references else None,
        references=tuple(references),
        automatic=automatic,
        headers=(("List-Unsubscribe", "<https://crm.example/u/abc>"),),
    )
    fast, slow = compose(draft, "<out-1@acme.example>", WHEN), compose_with_stdlib(draft, "<out-1@acme.example>", WHEN)
    simple = compose_simple(draft, "<out-1@acme.example>", WHEN)  # the simple writer wrote it
    assert simple is not None and _BOUNDARY.sub(b"B", simple) == _BOUNDARY.sub(b"B", fast)
    assert _reading(fast) == _reading(slow)
    assert raw_lines_ok(fast)


def raw_lines_ok(raw: bytes) -> bool:
    return raw.isascii() and b"\n" not in raw.replace(b"\r\n", b"") and max(map(len, raw.split(b"\r\n"))) <= 998


def test_plain_ascii_mail_is_written_byte_for_byte_like_the_stdlib() -> None:
    draft = Draft(
        key="ack:7",
        kind="ack",
        sender=Address("support@acme.example", "Acme Support"),
        to=(Address("jane@customer.example", "Jane Doe"),),
        subject="Re: Your invoice [#7]",
        text="Hello Jane,\n\nWe got your message.\n",
        html="<p>Hello Jane,</p>\n",
        in_reply_to="<parent@customer.example>",
        references=("<parent@customer.example>",),
        automatic="auto-replied",
    )
    fast, slow = compose(draft, "<out-1@acme.example>", WHEN), compose_with_stdlib(draft, "<out-1@acme.example>", WHEN)
    assert compose_simple(draft, "<out-1@acme.example>", WHEN) is not None
    assert _BOUNDARY.sub(b"B", fast) == _BOUNDARY.sub(b"B", slow)


@settings(max_examples=200, deadline=None)
@given(
    subject=st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=400),
    name=st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=120).filter(
        lambda n: not one_line(n, 200).isascii()
    ),
)
def test_non_ascii_subjects_and_names_are_encoded_words_that_read_back(subject: str, name: str) -> None:
    draft = Draft("k", "campaign", Address("a@acme.example", "A"), (Address("b@acme.example", name),), subject, "x")
    raw = compose_simple(draft, "<out-1@acme.example>", WHEN)
    assert raw is not None and raw_lines_ok(raw)
    header = raw.split(b"\r\n\r\n", 1)[0].decode("ascii")
    # RFC 2047: an encoded word is at most 75 characters, a line holding one at most 76 (but the address after it)
    assert all(len(word) <= 75 for word in re.findall(r"=\?utf-8\?b\?[^?]*\?=", header))
    assert all(len(line) <= 76 for line in header.split("\r\n") if "=?utf-8?" in line and "<" not in line)
    message = _parsed(raw)
    assert message["Subject"] == (one_line(subject) or "(no subject)")
    # the display name read as RFC 2047 says (whitespace between encoded words dropped) is exactly the name
    to = re.search(r"\r\nTo: (.*) <b@acme.example>\r\n", header, re.S)
    assert to is not None and str(make_header(decode_header(to.group(1).replace("\r\n", "")))) == one_line(name, 200)


def test_an_encoded_subject_broken_after_a_space_keeps_each_word_short() -> None:
    # found by the property above: the text after the last space of a full word, plus the next character,
    # made a word of 64 base64 letters (a line of 77)
    subject = "0 000" + "\x80" * 21 + " 0000" + "\x80" * 20 + "\x99"
    draft = Draft("k", "campaign", Address("a@acme.example", "A"), (Address("b@acme.example", "\x80"),), subject, "x")
    raw = compose_simple(draft, "<out-1@acme.example>", WHEN)
    assert raw is not None
    header = raw.split(b"\r\n\r\n", 1)[0].decode("ascii")
    assert all(len(line) <= 76 for line in header.split("\r\n") if "=?utf-8?" in line and "<" not in line)
    assert _parsed(raw)["Subject"] == subject
