"""RFC 3834: when inboxcrm may answer automatically, so two robots never mail each other forever."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from inboxcrm.core.classify import Kind, classify
from inboxcrm.core.loops import OUR_HEADER, Fuse, automatic_reason, is_no_reply, is_our_mail, may_send_automatic
from inboxcrm.core.model import Address, Message
from inboxcrm.core.outgoing import Draft, compose
from inboxcrm.core.parsing import parse_message

CUSTOMER = "jane@customer.example"


def _message(*headers: tuple[str, str]) -> Message:
    return Message(
        message_id="m1@customer.example",
        subject="Help with my order",
        from_=Address(CUSTOMER, "Jane"),
        to=(Address("support@acme.example"),),
        text="Hello, my order has not arrived.",
        headers=(("From", f"Jane <{CUSTOMER}>"), ("Subject", "Help with my order"), *headers),
    )


PERSON = _message()


def test_mail_from_a_person_has_no_reason_and_may_be_answered() -> None:
    assert automatic_reason(PERSON, Kind.NORMAL) is None
    assert may_send_automatic(PERSON, Kind.NORMAL, CUSTOMER, 0, Fuse()) == (True, "ok")


# ---------------------------------------------------------------------------------------------------------
# automatic_reason


@pytest.mark.parametrize("name", [OUR_HEADER, OUR_HEADER.lower(), OUR_HEADER.upper()])
def test_our_own_mail_is_recognised(name: str) -> None:
    ours = _message((name, "ack:42"))
    assert is_our_mail(ours)
    assert automatic_reason(ours, Kind.NORMAL) == "it is mail inboxcrm sent"


def test_our_header_is_the_documented_name() -> None:
    assert OUR_HEADER == "X-InboxCRM-Outbox"
    assert not is_our_mail(PERSON)
    assert not is_our_mail(_message(("X-InboxCRM", "x"), ("X-Outbox", "y")))


def test_our_own_mail_is_named_first_even_when_it_is_also_automatic() -> None:
    ours = _message((OUR_HEADER, "ack:1"), ("Auto-Submitted", "auto-replied"), ("Precedence", "bulk"))
    assert automatic_reason(ours, Kind.AUTO_REPLY) == "it is mail inboxcrm sent"


@pytest.mark.parametrize(
    ("kind", "reason"),
    [
        (Kind.AUTO_REPLY, "it is auto reply mail"),
        (Kind.BOUNCE, "it is bounce mail"),
        (Kind.LIST, "it is list mail"),
        (Kind.FEEDBACK_REPORT, "it is feedback report mail"),
    ],
)
def test_machine_kinds_are_never_answered(kind: Kind, reason: str) -> None:
    assert automatic_reason(PERSON, kind) == reason
    assert may_send_automatic(PERSON, kind, CUSTOMER, 0, Fuse()) == (False, f"not answered automatically: {reason}")


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("auto-replied", "auto-replied"),
        ("auto-generated", "auto-generated"),
        ("Auto-Generated", "auto-generated"),
        ("AUTO-REPLIED", "auto-replied"),
        ("auto-notified", "auto-notified"),
        (" auto-replied; owner-email=x@y.example ", "auto-replied; owner-email=x@y.example"),
        ("yes", "yes"),
    ],
)
def test_auto_submitted_other_than_no_is_automatic(value: str, shown: str) -> None:
    assert automatic_reason(_message(("Auto-Submitted", value)), Kind.NORMAL) == f"it says Auto-Submitted: {shown}"


@pytest.mark.parametrize("value", ["no", "No", "NO", " no ", "no (sent by a person)", ""])
def test_auto_submitted_no_is_a_person(value: str) -> None:
    assert automatic_reason(_message(("Auto-Submitted", value)), Kind.NORMAL) is None


@pytest.mark.parametrize(
    ("value", "shown"),
    [("bulk", "bulk"), ("Bulk", "bulk"), (" JUNK ", "junk"), ("list", "list"), ("auto_reply", "auto_reply")],
)
def test_precedence_bulk_junk_list(value: str, shown: str) -> None:
    assert automatic_reason(_message(("Precedence", value)), Kind.NORMAL) == f"it says Precedence: {shown}"


@pytest.mark.parametrize("value", ["first-class", "normal", "urgent", ""])
def test_other_precedence_values_are_a_person(value: str) -> None:
    assert automatic_reason(_message(("Precedence", value)), Kind.NORMAL) is None


@pytest.mark.parametrize(
    "header",
    [
        ("List-Id", "Acme users <users.lists.acme.example>"),
        ("list-id", "<users.lists.acme.example>"),
        ("List-Unsubscribe", "<mailto:unsubscribe@news.example>"),
        ("LIST-UNSUBSCRIBE", "<https://news.example/u/123>"),
    ],
)
def test_list_headers_mean_list_or_bulk_mail(header: tuple[str, str]) -> None:
    assert automatic_reason(_message(header), Kind.NORMAL) == "it is list or bulk mail (List-Id / List-Unsubscribe)"


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("All", "all"),
        ("OOF", "oof"),
        ("AutoReply", "autoreply"),
        ("DR, OOF", "dr, oof"),
        ("DR, RN, NRN, OOF, AutoReply", "dr, rn, nrn, oof, autoreply"),
    ],
)
def test_x_auto_response_suppress_asks_for_no_answer(value: str, shown: str) -> None:
    assert (
        automatic_reason(_message(("X-Auto-Response-Suppress", value)), Kind.NORMAL)
        == f"it asks for no automatic replies (X-Auto-Response-Suppress: {shown})"
    )


@pytest.mark.parametrize("value", ["DR", "NDR", "RN, NRN", "None", ""])
def test_x_auto_response_suppress_of_receipts_only_allows_an_answer(value: str) -> None:
    assert automatic_reason(_message(("X-Auto-Response-Suppress", value)), Kind.NORMAL) is None


def test_harmless_headers_do_not_make_mail_automatic() -> None:
    message = _message(
        ("Reply-To", "jane@customer.example"),
        ("X-Mailer", "Thunderbird"),
        ("Importance", "high"),
        ("X-Priority", "1"),
        ("Auto-Submitted-Note", "auto-generated"),
    )
    assert automatic_reason(message, Kind.NORMAL) is None


def test_our_own_mail_comes_back_recognised_after_parsing() -> None:
    """What compose writes, parse_message and classify read back: our header, and the RFC 3834 marks."""
    when = datetime(2024, 5, 1, tzinfo=UTC)
    for automatic in (None, "auto-replied", "auto-generated"):
        draft = Draft(
            key="ack:42",
            kind="ack",
            sender=Address("support@acme.example", "Acme"),
            to=(Address(CUSTOMER),),
            subject="We received your request [#42]",
            text="Thank you.\n",
            automatic=automatic,
        )
        raw = compose(draft, "ack-42@acme.example", when)
        parsed = parse_message(raw)
        assert is_our_mail(parsed)
        assert automatic_reason(parsed, classify(parsed, raw).kind) == "it is mail inboxcrm sent"
        if automatic:
            # even without our header (a relay that drops X- headers) the mail says it is automatic
            stripped = Message(
                message_id=parsed.message_id,
                subject=parsed.subject,
                from_=parsed.from_,
                headers=tuple((k, v) for k, v in parsed.headers if k.lower() != OUR_HEADER.lower()),
            )
            assert automatic_reason(stripped, classify(stripped, raw).kind) is not None


# ---------------------------------------------------------------------------------------------------------
# is_no_reply


@pytest.mark.parametrize(
    "address",
    [
        "noreply@shop.example",
        "no-reply@shop.example",
        "no_reply@shop.example",
        "no.reply@shop.example",
        "NoReply@Shop.Example",
        "NO-REPLY@SHOP.EXAMPLE",
        "noreply+orders@shop.example",
        "noreply-dmarc-support@google.com",
        "donotreply@bank.example",
        "noreply_hr@corp.example",
        "noreply1@corp.example",
        "donotrespond@corp.example",
        "do-not-respond@corp.example",
        "no-response@corp.example",
        "do-not-reply@bank.example",
        "do_not_reply@bank.example",
        "dontreply@bank.example",
        "mailer-daemon@mx.example",
        "MAILER-DAEMON@mx.example",
        "postmaster@mx.example",
        "bounce@news.example",
        "bounces@news.example",
        "bounce-12345-jane=customer.example@news.example",  # VERP
        "bounces+abc123@news.example",
        "notifications@github.com",
        "notification@app.example",
        "list-owner@lists.example",
        "owner-list@lists.example",
        "foo-request@lists.example",
        "users-bounces@lists.example",
        "auto-reply@app.example",
        "autoresponder@app.example",
        "listserv@lists.example",
        "majordomo@lists.example",
    ],
)
def test_no_reply_addresses(address: str) -> None:
    assert is_no_reply(address)
    allowed, why = may_send_automatic(PERSON, Kind.NORMAL, address, 0, Fuse())
    assert not allowed
    assert why == f"not answered automatically: {address} is a no-reply address"


@pytest.mark.parametrize(
    "address",
    [
        "noreen@customer.example",  # starts like "no re…", but a person
        "norbert@customer.example",
        "replyguy@customer.example",  # "reply" alone is not a no-reply word: people do choose such names
        "reply@customer.example",
        "jane.reply@customer.example",
        "bob.bounce@customer.example",  # the word is not at the start
        "owner@customer.example",  # a business owner, not a list owner (no "owner-" prefix)
        "requests@customer.example",
        "postmasters.guild@customer.example",
        "notified.person@customer.example",
        "support@acme.example",
        "jane@customer.example",
    ],
)
def test_people_are_not_no_reply_addresses(address: str) -> None:
    assert not is_no_reply(address)


def test_bounce_house_counts_as_a_bounce_address() -> None:
    """`bounce.house@` reads like a business, but `bounce.<anything>@` is also how bounce handlers are named,
    like `bounce-<id>@` and `noreply.billing@`. The cautious answer wins: the only cost of a false match is one
    acknowledgement not sent (an agent still answers the ticket by hand); the cost of a miss is a mail loop."""
    assert is_no_reply("bounce.house@customer.example")
    assert is_no_reply("noreply.billing@shop.example")


def test_only_the_local_part_counts() -> None:
    assert not is_no_reply("jane@noreply.example")
    assert not is_no_reply("jane@mailer-daemon.example")
    assert is_no_reply("noreply")  # no domain at all: still the same local part


# ---------------------------------------------------------------------------------------------------------
# may_send_automatic and the fuse


def test_without_an_address_nothing_is_sent() -> None:
    assert may_send_automatic(PERSON, Kind.NORMAL, None, 0, Fuse()) == (False, "the message has no address to answer")
    # the missing address is the first thing said, even for automatic mail
    assert may_send_automatic(PERSON, Kind.BOUNCE, None, 0, Fuse()) == (False, "the message has no address to answer")


def test_automatic_mail_is_refused_before_the_address_is_looked_at() -> None:
    message = _message(("Auto-Submitted", "auto-replied"))
    allowed, why = may_send_automatic(message, Kind.NORMAL, "noreply@shop.example", 0, Fuse())
    assert not allowed
    assert why == "not answered automatically: it says Auto-Submitted: auto-replied"


def test_the_fuse_defaults() -> None:
    assert Fuse() == Fuse(limit=20, window=timedelta(hours=2))


def test_the_fuse_allows_limit_minus_one_and_refuses_the_limit() -> None:
    fuse = Fuse()
    assert may_send_automatic(PERSON, Kind.NORMAL, CUSTOMER, 19, fuse) == (True, "ok")
    assert may_send_automatic(PERSON, Kind.NORMAL, CUSTOMER, 20, fuse) == (
        False,
        f"loop fuse: 20 automatic mails to {CUSTOMER} in the last 2 h",
    )
    assert may_send_automatic(PERSON, Kind.NORMAL, CUSTOMER, 500, fuse)[0] is False


@pytest.mark.parametrize(
    ("fuse", "hours"),
    [
        (Fuse(limit=3, window=timedelta(minutes=30)), "0.5"),
        (Fuse(limit=3, window=timedelta(hours=24)), "24"),
        (Fuse(limit=3, window=timedelta(minutes=90)), "1.5"),
    ],
)
def test_a_configured_fuse(fuse: Fuse, hours: str) -> None:
    assert may_send_automatic(PERSON, Kind.NORMAL, CUSTOMER, 2, fuse) == (True, "ok")
    assert may_send_automatic(PERSON, Kind.NORMAL, CUSTOMER, 3, fuse) == (
        False,
        f"loop fuse: 3 automatic mails to {CUSTOMER} in the last {hours} h",
    )


def test_a_fuse_of_zero_allows_nothing() -> None:
    assert may_send_automatic(PERSON, Kind.NORMAL, CUSTOMER, 0, Fuse(limit=0))[0] is False
