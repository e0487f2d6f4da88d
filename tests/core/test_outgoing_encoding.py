"""Composing outgoing mail: the bytes: CRLF only, 7-bit and short lines, and text, names and HTML that survive the
round trip."""

from __future__ import annotations

from inboxcrm.core.model import Address
from inboxcrm.core.outgoing import Part, compose
from tests.core.outgoing_support import WHEN, _assert_wire_clean, _draft, _parse, _text_body


def test_line_endings_are_crlf_only_even_for_mixed_input() -> None:
    draft = _draft(
        text="one\ntwo\r\nthree\rfour\n" + "long " * 300,
        html="<p>one</p>\n<p>two</p>\r\n",
        attachments=(Part("notes.txt", "text/plain", b"a\nb\r\nc\r"),),
        references=tuple(f"<ref-{i}@customer.example>" for i in range(20)),
    )
    raw = compose(draft, "m@acme.example", WHEN)
    _assert_wire_clean(raw)


def test_non_ascii_names_subject_and_body_survive_the_round_trip() -> None:
    text = "Grüße aus Köln — €100, 日本語, Ωμέγα, emoji 🎉\n\nZweite Zeile: naïve café\n"
    draft = _draft(
        sender=Address("support@acme.example", "Acme Kundenservice Köln"),
        to=(Address("jose@customer.example", "José Müller"), Address("taro@customer.example", "山田 太郎")),
        subject="Ihre Bestellung über 300 € — Lieferung",
        text=text,
    )
    raw = compose(draft, "m@acme.example", WHEN)
    _assert_wire_clean(raw)
    parsed = _parse(raw)
    assert parsed["From"].addresses[0].display_name == "Acme Kundenservice Köln"
    assert [(a.display_name, a.addr_spec) for a in parsed["To"].addresses] == [
        ("José Müller", "jose@customer.example"),
        ("山田 太郎", "taro@customer.example"),
    ]
    assert str(parsed["Subject"]) == "Ihre Bestellung über 300 € — Lieferung"
    assert _text_body(parsed) == text


def test_a_long_non_ascii_subject_keeps_its_spaces() -> None:
    subject = "Bonjour problème réception commande numéro passée"
    raw = compose(_draft(subject=subject), "m@acme.example", WHEN)
    assert str(_parse(raw)["Subject"]) == subject


def test_the_body_gets_a_final_newline() -> None:
    parsed = _parse(compose(_draft(text="no newline at the end"), "m@acme.example", WHEN))
    assert _text_body(parsed) == "no newline at the end\n"


def test_lines_starting_with_a_dot_or_from_survive() -> None:
    text = ".\n.hidden\n..two dots\nFrom the desk of Jane\n>From quoted\nFrom \n. \nend\n"
    raw = compose(_draft(text=text), "m@acme.example", WHEN)
    _assert_wire_clean(raw)
    assert _text_body(_parse(raw)) == text


def test_long_lines_and_trailing_spaces_survive() -> None:
    text = "x" * 500 + "\n" + "trailing spaces   \n" + "tab\tinside\n" + "= equals =3D\n"
    assert _text_body(_parse(compose(_draft(text=text), "m@acme.example", WHEN))) == text


def test_html_goes_in_an_alternative_part() -> None:
    raw = compose(_draft(text="Plain café\n", html="<p>HTML café</p>\n"), "m@acme.example", WHEN)
    parsed = _parse(raw)
    assert parsed.get_content_type() == "multipart/alternative"
    assert _text_body(parsed) == "Plain café\n"
    html = parsed.get_body(preferencelist=("html",))
    assert html is not None
    assert html.get_content_type() == "text/html"
    assert html.get_content().replace("\r\n", "\n") == "<p>HTML café</p>\n"
    assert list(parsed.iter_attachments()) == []
