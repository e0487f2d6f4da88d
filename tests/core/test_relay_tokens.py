"""Relay addresses: agents answer a ticket by replying to a signed, expiring `support+r.…@` address."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from inboxcrm.core.addresses import normalise_email
from inboxcrm.core.reply_tokens import (
    RelayRefused,
    RelayTarget,
    relay_address,
    relay_in_recipients,
    reply_address,
    thread_in_recipients,
)

SECRET = b"relay-test-secret-0123456789abcdef"
OTHER_SECRET = b"another-installation-secret-98765"
SHARED = frozenset({"support@acme.example", "sales@acme.example"})
EXPIRES = date(2024, 6, 30)
BASE32 = "abcdefghijklmnopqrstuvwxyz234567"


def _relay(
    ticket_id: int = 4711, note: bool = False, expires: date = EXPIRES, shared: str = "support@acme.example"
) -> str:
    return relay_address(shared, ticket_id, note, expires, SECRET)


def _find(*recipients: str, today: date = EXPIRES, secret: bytes = SECRET) -> RelayTarget | RelayRefused | None:
    return relay_in_recipients(list(recipients), SHARED, secret, today)


def _token(address: str) -> str:
    return address.partition("@")[0].split("+", 1)[1]


def _with_token(address: str, token: str) -> str:
    local, _, domain = address.partition("@")
    return f"{local.split('+', 1)[0]}+{token}@{domain}"


def _is_signature_refusal(found: object, address: str) -> bool:
    return isinstance(found, RelayRefused) and found.address == address and "signature" in found.reason


# ---------------------------------------------------------------------------------------------------------
# the address


def test_the_address_shape() -> None:
    address = _relay(ticket_id=4711, note=False)
    local, _, domain = address.partition("@")
    assert domain == "acme.example"
    assert local.startswith("support+r.")
    purpose, ticket, expiry, signature = _token(address).split(".")
    assert purpose == "r"
    assert set(ticket + expiry + signature) <= set(BASE32)
    assert len(signature) == 16
    assert address == address.lower()
    assert _relay(ticket_id=4711, note=True).startswith("support+n.")


def test_the_longest_address_fits_an_smtp_local_part() -> None:
    address = relay_address("support@acme.example", 2**64 - 1, True, date(9999, 12, 31), SECRET)
    assert len(address.partition("@")[0]) <= 64  # RFC 5321 §4.5.3.1.1
    assert _find(address, today=date(9999, 12, 31)) == RelayTarget(2**64 - 1, True, address)


def test_the_same_inputs_make_the_same_address() -> None:
    assert _relay() == _relay()
    assert _relay(ticket_id=1) != _relay(ticket_id=2)
    assert _relay(expires=EXPIRES) != _relay(expires=EXPIRES + timedelta(days=1))
    assert relay_address("support@acme.example", 1, False, EXPIRES, OTHER_SECRET) != _relay(ticket_id=1)


# ---------------------------------------------------------------------------------------------------------
# finding it again


@settings(max_examples=60, deadline=None)
@given(
    ticket_id=st.one_of(st.integers(0, 1000), st.integers(0, 2**64 - 1)),
    note=st.booleans(),
    expires=st.dates(min_value=date(1970, 1, 1), max_value=date(2200, 1, 1)),
    days_left=st.integers(0, 400),
    shared=st.sampled_from(sorted(SHARED)),
)
def test_round_trip(ticket_id: int, note: bool, expires: date, days_left: int, shared: str) -> None:
    address = relay_address(shared, ticket_id, note, expires, SECRET)
    today = max(date(1970, 1, 1), expires - timedelta(days=days_left))
    assert _find(address, today=today) == RelayTarget(ticket_id, note, address)


def test_reply_and_note_addresses_name_the_same_ticket_differently() -> None:
    reply, note = _relay(note=False), _relay(note=True)
    assert reply != note
    assert _find(reply) == RelayTarget(4711, False, reply)
    assert _find(note) == RelayTarget(4711, True, note)


def test_found_among_other_recipients() -> None:
    address = _relay()
    assert _find("jane@customer.example", "support@acme.example", address, "bob@customer.example") == RelayTarget(
        4711, False, address
    )


# ---------------------------------------------------------------------------------------------------------
# expiry


def test_valid_through_the_expiry_day() -> None:
    address = _relay(expires=EXPIRES)
    assert isinstance(_find(address, today=EXPIRES - timedelta(days=365)), RelayTarget)
    assert isinstance(_find(address, today=EXPIRES - timedelta(days=1)), RelayTarget)
    assert isinstance(_find(address, today=EXPIRES), RelayTarget)


@pytest.mark.parametrize("days_late", [1, 2, 400])
def test_refused_after_the_expiry_day_naming_the_date(days_late: int) -> None:
    address = _relay(expires=EXPIRES)
    found = _find(address, today=EXPIRES + timedelta(days=days_late))
    assert isinstance(found, RelayRefused)
    assert found.address == address
    assert "expired on 2024-06-30" in found.reason
    assert "signature" not in found.reason


# ---------------------------------------------------------------------------------------------------------
# forgery


def _flips(token: str) -> list[str]:
    """Every token that differs from `token` in one character and still has the shape of a relay token."""
    out = []
    for i, char in enumerate(token):
        if char == ".":
            continue
        if i == 0:
            out.append({"r": "n", "n": "r"}[char] + token[1:])
            continue
        replacement = BASE32[(BASE32.index(char) + 1) % len(BASE32)]
        out.append(token[:i] + replacement + token[i + 1 :])
    return out


@pytest.mark.parametrize("note", [False, True])
def test_a_flipped_character_anywhere_is_refused_for_its_signature(note: bool) -> None:
    address = _relay(ticket_id=123456789, note=note)
    flips = _flips(_token(address))
    assert len(flips) == len(_token(address)) - 3  # every character but the three dots
    for token in flips:
        forged = _with_token(address, token)
        assert _is_signature_refusal(_find(forged), forged), forged


def test_a_later_expiry_cannot_be_grafted_on() -> None:
    old = _relay(ticket_id=7, expires=date(2024, 1, 31))
    fresh = _relay(ticket_id=8, expires=date(2030, 1, 1))
    purpose, ticket, _, signature = _token(old).split(".")
    extended = _with_token(old, ".".join([purpose, ticket, _token(fresh).split(".")[2], signature]))
    assert _is_signature_refusal(_find(extended, today=date(2024, 6, 1)), extended)
    # nor another ticket's signature
    stolen = _with_token(old, ".".join([purpose, ticket, _token(old).split(".")[2], _token(fresh).split(".")[3]]))
    assert _is_signature_refusal(_find(stolen, today=date(2024, 1, 1)), stolen)


def test_an_address_made_with_another_secret_is_refused() -> None:
    address = relay_address("support@acme.example", 4711, False, EXPIRES, OTHER_SECRET)
    assert _is_signature_refusal(_find(address), address)
    assert _find(address, secret=OTHER_SECRET) == RelayTarget(4711, False, address)


def test_an_expired_forgery_is_refused_for_its_signature_not_its_date() -> None:
    """The signature is checked first, so a forger learns nothing from the expiry message."""
    address = relay_address("support@acme.example", 4711, False, date(2020, 1, 1), OTHER_SECRET)
    assert _is_signature_refusal(_find(address, today=date(2024, 1, 1)), address)


# ---------------------------------------------------------------------------------------------------------
# case: mail clients change it


def test_an_uppercased_token_is_accepted() -> None:
    address = _relay(note=True)
    shouted = _with_token(address, _token(address).upper())
    assert shouted != address
    assert _find(shouted) == RelayTarget(4711, True, shouted)


def test_an_address_a_client_uppercased_is_accepted_once_parsed() -> None:
    """Recipients reach relay_in_recipients as parsed addresses, which `normalise_email` has lower-cased."""
    address = _relay()
    received = normalise_email(" <" + address.upper() + "> ")
    assert received == address
    assert _find(received) == RelayTarget(4711, False, address)


# ---------------------------------------------------------------------------------------------------------
# what is not a relay address at all


def test_not_at_one_of_the_shared_addresses() -> None:
    address = _relay()
    token = _token(address)
    for elsewhere in (
        f"billing+{token}@acme.example",
        f"support+{token}@evil.example",
        f"support+{token}@acme.example.evil.example",
        f"xsupport+{token}@acme.example",
    ):
        assert _find(elsewhere) is None, elsewhere
    # made for a shared address, it works at that address only
    assert isinstance(_find(_relay(shared="sales@acme.example")), RelayTarget)


@pytest.mark.parametrize(
    "recipients",
    [
        [],
        ["support@acme.example"],
        ["support@acme.example", "sales@acme.example", "jane@customer.example"],
        ["support+@acme.example"],
        ["support+urgent@acme.example"],
        ["support+r@acme.example"],
        ["support+r.aa.aa@acme.example"],
        ["support+x.aa.aa.aaaaaaaaaaaaaaaa@acme.example"],  # not a purpose inboxcrm makes
        ["support+r.aa.aa.aaaaaaaaaaaaaaa@acme.example"],  # signature one character short
        ["support+r.a1.aa.aaaaaaaaaaaaaaaa@acme.example"],  # 1 is not base32
        ["not an address"],
        [""],
    ],
)
def test_addresses_that_are_not_relay_addresses(recipients: list[str]) -> None:
    assert relay_in_recipients(recipients, SHARED, SECRET, EXPIRES) is None


def test_a_well_formed_token_with_a_bad_signature_is_refused_not_ignored() -> None:
    address = "support+r.aa.aa.aaaaaaaaaaaaaaaa@acme.example"
    assert _is_signature_refusal(_find(address), address)


# ---------------------------------------------------------------------------------------------------------
# thread tokens and relay tokens never pass for each other


@settings(max_examples=40, deadline=None)
@given(ticket_id=st.integers(0, 2**64 - 1), note=st.booleans())
def test_thread_and_relay_tokens_never_pass_for_each_other(ticket_id: int, note: bool) -> None:
    thread = reply_address("support@acme.example", ticket_id, SECRET)
    relay = relay_address("support@acme.example", ticket_id, note, EXPIRES, SECRET)
    assert relay_in_recipients([thread], SHARED, SECRET, EXPIRES) is None
    assert thread_in_recipients([relay], SHARED, SECRET) is None
    # side by side, each function finds its own
    assert thread_in_recipients([relay, thread], SHARED, SECRET) == ticket_id
    assert relay_in_recipients([thread, relay], SHARED, SECRET, EXPIRES) == RelayTarget(ticket_id, note, relay)


def test_a_valid_relay_address_wins_over_an_expired_one_among_the_recipients() -> None:
    expired = _relay(expires=EXPIRES)
    valid = _relay(expires=EXPIRES + timedelta(days=100))
    assert isinstance(_find(expired, today=EXPIRES + timedelta(days=1)), RelayRefused)
    found = _find(expired, valid, today=EXPIRES + timedelta(days=1))
    assert isinstance(found, RelayTarget) and found.address == valid
