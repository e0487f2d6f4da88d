"""Unsubscribe tokens: round trips, nothing forged or damaged is accepted, and the RFC 8058 headers."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from inboxcrm.core.reply_tokens import reply_token
from inboxcrm.core.unsubscribe import list_unsubscribe_headers, read_unsubscribe_token, unsubscribe_token

SECRET = b"s3cret-for-tests"
OTHER = b"another-secret"
ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
TOKEN = unsubscribe_token("carol@acme.example", "trial-nurture", SECRET)


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def signed(body: bytes, secret: bytes = SECRET, purpose: bytes = b"inboxcrm-unsubscribe:v1:") -> str:
    """A token laid out as the module lays them out, with any body: to test what reading checks after the MAC."""
    return b64(hmac.new(secret, purpose + body, hashlib.sha256).digest()[:16] + body)


texts = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), min_size=1, max_size=40)
emails = st.one_of(st.emails(), st.builds(lambda local, domain: f"{local}@{domain}", texts, texts))
campaigns = st.one_of(st.from_regex(r"[A-Za-z0-9_-]{1,40}", fullmatch=True), texts)
secrets = st.binary(min_size=1, max_size=64)


@settings(max_examples=100, deadline=None)
@given(emails, campaigns, secrets)
def test_round_trip(email: str, campaign: str, secret: bytes) -> None:
    token = unsubscribe_token(email, campaign, secret)
    assert re.fullmatch(r"[A-Za-z0-9_-]+", token)  # URL-safe, no padding
    assert read_unsubscribe_token(token, secret) == (email, campaign)


def test_examples_round_trip() -> None:
    assert read_unsubscribe_token(TOKEN, SECRET) == ("carol@acme.example", "trial-nurture")
    unicode = unsubscribe_token("jürgen@bücher.example", "früh-jahr_2026", SECRET)
    assert read_unsubscribe_token(unicode, SECRET) == ("jürgen@bücher.example", "früh-jahr_2026")


def test_the_signature_is_128_bits() -> None:
    data = base64.urlsafe_b64decode(TOKEN + "=" * (-len(TOKEN) % 4))
    assert len(data) == 16 + len(b"carol@acme.example\x00trial-nurture")


def test_the_same_inputs_make_the_same_token_and_different_ones_differ() -> None:
    assert unsubscribe_token("carol@acme.example", "trial-nurture", SECRET) == TOKEN
    assert unsubscribe_token("carol@acme.example", "trial-nurture", OTHER) != TOKEN
    assert unsubscribe_token("carol@acme.example", "onboarding", SECRET) != TOKEN
    assert unsubscribe_token("dave@acme.example", "trial-nurture", SECRET) != TOKEN


@pytest.mark.parametrize(
    "token",
    [
        pytest.param(TOKEN, id="length 0 mod 3"),
        # base64 leaves bits of the last character unused when the length is not a multiple of 3
        pytest.param(unsubscribe_token("carol@acme.example", "trial", SECRET), id="length 1 mod 3"),
        pytest.param(unsubscribe_token("carol@acme.example", "trial-", SECRET), id="length 2 mod 3"),
    ],
)
def test_changing_any_character_invalidates_the_token(token: str) -> None:
    assert read_unsubscribe_token(token, SECRET) is not None
    for position, original in enumerate(token):
        for replacement in ALPHABET:
            if replacement != original:
                tampered = token[:position] + replacement + token[position + 1 :]
                assert read_unsubscribe_token(tampered, SECRET) is None, (position, replacement)


@settings(max_examples=100, deadline=None)
@given(emails, campaigns, st.data())
def test_changing_any_character_of_any_token_invalidates_it(email: str, campaign: str, data: st.DataObject) -> None:
    token = unsubscribe_token(email, campaign, SECRET)
    position = data.draw(st.integers(0, len(token) - 1))
    replacement = data.draw(st.sampled_from(ALPHABET).filter(lambda c: c != token[position]))
    assert read_unsubscribe_token(token[:position] + replacement + token[position + 1 :], SECRET) is None


def test_cutting_or_extending_invalidates_the_token() -> None:
    for cut in range(1, len(TOKEN)):
        assert read_unsubscribe_token(TOKEN[:cut], SECRET) is None
        assert read_unsubscribe_token(TOKEN[cut:], SECRET) is None
    for extra in ("A", "AA", "AAA", "AAAA", "=", "==", " ", "\n"):
        assert read_unsubscribe_token(TOKEN + extra, SECRET) is None


def test_another_secret_reads_nothing() -> None:
    assert read_unsubscribe_token(TOKEN, OTHER) is None
    assert read_unsubscribe_token(TOKEN, b"") is None


@pytest.mark.parametrize(
    "garbage",
    [
        "",
        "=",
        "a",
        "abc",
        "!!!!",
        "a b c",
        "ÄÖÜ",
        "\x00",
        b64(b"short"),
        b64(b"x" * 40),
        "A" * 5000,
        base64.urlsafe_b64encode(b"carol@acme.example\x00trial-nurture").decode(),
    ],
)
def test_garbage_reads_as_none(garbage: str) -> None:
    assert read_unsubscribe_token(garbage, SECRET) is None


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b"carol@acme.example", id="no separator"),
        pytest.param(b"\x00trial-nurture", id="no email"),
        pytest.param(b"carol@acme.example\x00", id="no campaign"),
        pytest.param(b"carol@acme.example\x00trial\x00nurture", id="two separators"),
        pytest.param(b"carol@acme.example\x00\xff\xfe", id="not UTF-8"),
    ],
)
def test_signed_but_malformed_bodies_read_as_none(body: bytes) -> None:
    assert read_unsubscribe_token(signed(body), SECRET) is None


def test_the_layout_helper_matches_real_tokens() -> None:
    # so that the malformed-body test above really passes the signature check and fails on the layout
    assert signed(b"carol@acme.example\x00trial-nurture") == TOKEN


def test_tokens_are_domain_separated() -> None:
    body = b"carol@acme.example\x00trial-nurture"
    assert read_unsubscribe_token(signed(body, purpose=b""), SECRET) is None
    assert read_unsubscribe_token(signed(body, purpose=b"inboxcrm-reply:"), SECRET) is None
    assert read_unsubscribe_token(reply_token(12345, SECRET), SECRET) is None


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200))
def test_reading_never_raises(text: str) -> None:
    assert read_unsubscribe_token(text, SECRET) is None


def test_reading_a_non_string_returns_none() -> None:
    assert read_unsubscribe_token(TOKEN.encode(), SECRET) is None  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("email", "campaign", "secret"),
    [
        ("", "c", SECRET),
        ("a@b.example", "", SECRET),
        ("a\x00@b.example", "c", SECRET),
        ("a@b.example", "c\x00", SECRET),
        ("a@b.example", "c", b""),
    ],
)
def test_making_a_token_refuses_what_could_not_be_read_back(email: str, campaign: str, secret: bytes) -> None:
    with pytest.raises(ValueError, match="unsubscribe token needs"):
        unsubscribe_token(email, campaign, secret)


# ---------------------------------------------------------------------------------------------------------
# Headers


def test_headers_exact() -> None:
    assert list_unsubscribe_headers(
        "https://crm.northwind.example/u/Ab-9_z", "unsubscribe+Ab-9_z@northwind.example"
    ) == [
        ("List-Unsubscribe", "<https://crm.northwind.example/u/Ab-9_z>, <mailto:unsubscribe+Ab-9_z@northwind.example>"),
        ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"),
    ]


def test_a_mailto_uri_is_kept_as_given() -> None:
    headers = list_unsubscribe_headers("https://x.example/u?t=1", "mailto:u@x.example?subject=unsubscribe")
    assert headers[0] == ("List-Unsubscribe", "<https://x.example/u?t=1>, <mailto:u@x.example?subject=unsubscribe>")


@pytest.mark.parametrize(
    ("url", "mailto"),
    [
        pytest.param("http://x.example/u", "u@x.example", id="plain http"),
        pytest.param("https://", "u@x.example", id="no host"),
        pytest.param("ftp://x.example/u", "u@x.example", id="not a web URL"),
        pytest.param("https://x.example/u\r\nBcc: victim@y.example", "u@x.example", id="header injection"),
        pytest.param("https://x.example/u u", "u@x.example", id="space"),
        pytest.param("https://x.example/u>", "u@x.example", id="angle bracket"),
        pytest.param("https://x.example/ü", "u@x.example", id="not ASCII"),
        pytest.param("https://x.example/u", "nobody", id="mailto without address"),
        pytest.param("https://x.example/u", "u@x.example>, <https://evil.example", id="mailto breaks out"),
    ],
)
def test_headers_refuse_what_would_break_them(url: str, mailto: str) -> None:
    with pytest.raises(ValueError):
        list_unsubscribe_headers(url, mailto)
