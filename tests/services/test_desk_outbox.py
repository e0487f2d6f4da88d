"""The outbox's retry and failure handling, on both databases, with a scripted sender (the real SMTP server is in
tests/e2e/test_support_desk.py): backoff with the same bytes, giving up, a refused reply told to the agent, and a
dispatcher that died mid-send."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from inboxcrm import bootstrap
from inboxcrm.core.ports import Envelope, Outcome, SendResult
from inboxcrm.services.outbox import Dispatcher, RetryPolicy
from tests.services.desk_support import (
    Clock,
    agent_reply,
    body,
    clock,
    customer_mail,
    desk,
    events,
    ingest,
    outbox,
    relay_of,
)

__all__ = ["clock", "desk"]  # the fixtures


class ScriptedSender:
    """Answers sends of the mail with key `key` with the scripted outcomes in turn (then SENT); everything
    else is SENT. Records what it was given."""

    def __init__(self, key: str = "", script: Sequence[tuple[Outcome, str]] = ()) -> None:
        self.key = key
        self.script = list(script)
        self.given: list[Envelope] = []

    async def send_many(self, envelopes: Sequence[Envelope]) -> list[SendResult]:
        out = []
        for envelope in envelopes:
            self.given.append(envelope)
            scripted = envelope.key == self.key and self.script
            outcome, detail = self.script.pop(0) if scripted else (Outcome.SENT, "250 ok")
            out.append(SendResult(envelope.key, outcome, detail))
        return out


def dispatcher(app: bootstrap.App, sender: ScriptedSender, clock: Clock) -> Dispatcher:
    return Dispatcher(
        app.store,
        sender,
        clock,
        app.support,
        RetryPolicy(timedelta(minutes=1), timedelta(minutes=8), timedelta(hours=1)),
    )


def test_temporary_failures_are_retried_with_backoff_and_the_same_bytes(desk: bootstrap.App, clock: Clock) -> None:
    ingest(desk, customer_mail())
    ingest(desk, agent_reply(relay_of(desk), "Hello Carol."))
    relay = outbox(desk, "relay")[0]
    sender = ScriptedSender(relay.key, [(Outcome.RETRY, "451 4.3.0 try later")] * 6)
    send = dispatcher(desk, sender, clock)
    relay_tries = lambda: [e for e in sender.given if e.key == relay.key]  # noqa: E731
    send.dispatch()
    assert len(relay_tries()) == 1
    send.dispatch()  # not due yet: backoff
    assert len(relay_tries()) == 1
    for minutes in (1, 2, 4, 8, 8):
        clock.now += timedelta(minutes=minutes)
        send.dispatch()
    tries = relay_tries()
    assert len(tries) == 6 and {e.raw for e in tries} == {relay.raw}
    assert outbox(desk, "relay")[0].status == "queued"
    assert outbox(desk, "relay")[0].last_error == "451 4.3.0 try later"
    clock.now += timedelta(minutes=8)
    send.drain()
    assert outbox(desk, "relay")[0].status == "sent"


def test_a_mail_that_keeps_failing_temporarily_fails_for_good_after_give_up_after(
    desk: bootstrap.App, clock: Clock
) -> None:
    ingest(desk, customer_mail())
    ingest(desk, agent_reply(relay_of(desk), "Hello Carol."))
    relay = outbox(desk, "relay")[0]
    sender = ScriptedSender(relay.key, [(Outcome.RETRY, "421 4.7.0 closing")] * 100)
    send = dispatcher(desk, sender, clock)
    for _ in range(12):
        send.dispatch()
        clock.now += timedelta(minutes=8)
    row = outbox(desk, "relay")[0]
    assert row.status == "failed" and "gave up after" in row.last_error
    assert len(outbox(desk, "delivery_failed")) == 1


def test_a_refused_reply_fails_and_the_agent_is_told(desk: bootstrap.App, clock: Clock) -> None:
    ingest(desk, customer_mail())
    ingest(desk, agent_reply(relay_of(desk), "Hello Carol."))
    relay = outbox(desk, "relay")[0]
    sender = ScriptedSender(relay.key, [(Outcome.FAILED, "550 5.1.1 no such user")])
    send = dispatcher(desk, sender, clock)
    send.drain()
    assert outbox(desk, "relay")[0].status == "failed"
    assert "550 5.1.1" in outbox(desk, "relay")[0].last_error
    (notice,) = outbox(desk, "delivery_failed")
    assert notice.recipients == ["ana@northwind.example"]
    assert "550 5.1.1 no such user" in body(notice.raw)
    assert any(k == "mail_failed" for k, _ in events(desk))
    assert relay.key in [e.key for e in sender.given]


def test_a_dispatcher_that_died_mid_send_leaves_the_mail_to_be_sent_again_with_the_same_message_id(
    desk: bootstrap.App, clock: Clock
) -> None:
    ingest(desk, customer_mail())
    with desk.store.transaction() as tx:  # a dispatcher claims the mail … and is killed before recording
        claimed = tx.claim_mail(clock.now, clock.now + timedelta(minutes=10), 100)
    assert claimed
    sender = ScriptedSender()
    send = dispatcher(desk, sender, clock)
    assert send.dispatch().total == 0  # still claimed by the dead one
    clock.now += timedelta(minutes=11)
    send.drain()
    assert sorted(e.key for e in sender.given) == sorted(m.key for m in claimed)
    assert {e.raw for e in sender.given} == {m.raw for m in claimed}
    assert {r.status for r in outbox(desk)} == {"sent"}
