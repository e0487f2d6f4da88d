"""classify never raises: random bytes after report-like headers, and any text inside a bounce or a DSN."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from inboxcrm.core.classify import Kind, classify
from inboxcrm.core.parsing import parse_message
from tests.core.classify_support import dsn, prose_bounce, run

_HINTS = [
    b"",
    b"From: MAILER-DAEMON@mx.example\r\nSubject: Undelivered Mail Returned to Sender\r\n",
    b"Content-Type: multipart/report; report-type=delivery-status; boundary=B\r\n",
    b"Content-Type: multipart/report; report-type=feedback-report; boundary=B\r\n",
    b"From: no-reply@sns.amazonaws.com\r\nSubject: AWS Notification Message\r\n",
]


@settings(max_examples=300, deadline=None)
@given(hint=st.sampled_from(_HINTS), tail=st.binary(max_size=2000))
def test_classify_never_raises(hint: bytes, tail: bytes) -> None:
    raw = hint + tail
    result = classify(parse_message(raw), raw)
    assert isinstance(result.kind, Kind)
    # classify's last-resort guard never had to catch anything
    assert not any("could not be read" in reason for reason in result.reasons)


@settings(max_examples=200, deadline=None)
@given(body=st.text(max_size=1500))
def test_classify_never_raises_on_any_report_text(body: str) -> None:
    for raw in (prose_bounce(body), dsn(body), dsn(f"Final-Recipient: rfc822; a@b.example\n{body}")):
        result = run(raw)
        assert result.kind in (Kind.BOUNCE, Kind.NORMAL, Kind.AUTO_REPLY)
        assert not any("could not be read" in reason for reason in result.reasons)
