"""`inboxcrm parse`: what inboxcrm understands of a message file, without storing anything."""

from __future__ import annotations

from typing import Any

from inboxcrm.core.model import Address, Team
from inboxcrm.core.reading import read_raw


def _address(address: Address | None) -> dict[str, str] | None:
    return {"name": address.name, "email": address.email} if address else None


def describe(raw: bytes, file: str, team: Team | None) -> dict[str, Any]:
    """One JSON-ready object for `raw`. With a `team`, a forward only names the original author when a
    team member forwarded it (as filing does); without one, any forward is reported."""
    reading = read_raw(raw)
    message, analysis = reading.message, reading.analysis
    defects = list(message.defects) if message else []
    if reading.problem and reading.problem not in defects:
        defects.append(reading.problem)
    forward = analysis.forward if analysis else None
    if forward is not None and team is not None and (team.addresses or team.domains):
        forwarder = forward.forwarded_by.email if forward.forwarded_by else ""
        if not team.includes(forwarder):
            forward = None
    bounce = None
    if analysis is not None and analysis.bounce:
        bounce = {"recipients": [b.as_record() for b in analysis.bounce]}
    body = analysis.body if analysis else None
    return {
        "file": file,
        "from": _address(message.from_ if message else None),
        "original_from": _address(forward.original_from) if forward else None,
        "forwarded_by": _address(forward.forwarded_by) if forward else None,
        "forward_confidence": forward.confidence if forward else None,
        "to": [_address(a) for a in message.to] if message else [],
        "cc": [_address(a) for a in message.cc] if message else [],
        "subject": message.subject if message else "",
        "date": message.date.isoformat() if message and message.date else None,
        "message_id": message.message_id if message else None,
        "in_reply_to": message.in_reply_to if message else None,
        "references": list(message.references) if message else [],
        "kind": analysis.kind.value if analysis else None,
        "kind_reasons": list(analysis.kind_reasons) if analysis else [],
        "bounce": bounce,
        "new_text": body.new_text if body else (message.text if message else ""),
        "quoted_text": body.quoted if body else "",
        "signature": body.signature if body else "",
        "forwarded_text": body.forwarded if body else "",
        "attachments": [
            {"filename": a.filename, "content_type": a.content_type, "size": a.size}
            for a in (message.attachments if message else ())
        ],
        "defects": defects,
    }
