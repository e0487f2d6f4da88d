"""Named segments: checked with file:line like rules, and answered by one query (SQLite and PostgreSQL)."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import insert, update

from inboxcrm.adapters.db import tables as t
from inboxcrm.bootstrap import App
from inboxcrm.core.audiences import compile_segments
from inboxcrm.core.model import MailboxKind, MailboxProfile
from inboxcrm.core.ports import FetchedMessage
from inboxcrm.core.rules import RulesInvalid
from inboxcrm.web.app import create_app
from tests.support.mail import mail

STAGES = ("subscriber", "lead", "mql", "sql", "customer")
ROOT = Path(__file__).resolve().parents[2]
SEGMENTS = """
[[segment]]
name = "hot"
when.stage = ["mql", "sql"]
when.score_at_least = 30
when.lacks_tag = "do-not-call"

[[segment]]
name = "either"
when.any = [{ tag = "vip" }, { company = "*globex*" }]

[[segment]]
name = "free"
when.free_mail = true
when.not = { undeliverable = true }
"""


def people(app: App) -> dict[str, int]:
    senders = ["carol@acme-corp.example", "dave@globex.example", "erin@gmail.com", "frank@initech.example"]
    app.ingest.ingest_batch(
        MailboxProfile("sales", MailboxKind.SALES, frozenset()),
        "INBOX",
        1,
        [FetchedMessage(i + 1, mail(from_=s, message_id=f"{i}@x")) for i, s in enumerate(senders)],
    )
    ids = {c.email: c.id for c in app.reads.contacts().items}
    with app.engine.begin() as connection:
        for email, score, stage in (("carol@acme-corp.example", 40, "sql"), ("frank@initech.example", 35, "mql"),
                                    ("dave@globex.example", 50, "lead")):  # fmt: skip
            connection.execute(update(t.contacts).where(t.contacts.c.id == ids[email]).values(score=score, stage=stage))
        tags = [("frank@initech.example", "do-not-call"), ("carol@acme-corp.example", "vip")]
        connection.execute(insert(t.contact_tags), [{"contact_id": ids[email], "tag": tag} for email, tag in tags])
    return ids


def members(app: App, name: str) -> list[str]:
    segment = {s.name: s for s in compile_segments([("s.toml", SEGMENTS)], STAGES)}[name]
    return [c.email for c in app.reads.segment_contacts(segment).items]


def test_segments_select_contacts_in_one_query(app: App) -> None:
    people(app)
    assert members(app, "hot") == ["carol@acme-corp.example"]
    assert members(app, "either") == ["carol@acme-corp.example", "dave@globex.example"]
    assert members(app, "free") == ["erin@gmail.com"]


def test_segments_over_the_api(app: App) -> None:
    people(app)
    named = {s.name: s for s in compile_segments([("s.toml", SEGMENTS)], STAGES)}
    client = TestClient(create_app(app.reads, {"t": "x"}, segments=named))
    auth = {"Authorization": "Bearer t"}
    assert [s["name"] for s in client.get("/segments", headers=auth).json()] == ["hot", "either", "free"]
    page = client.get("/segments/either/contacts", params={"limit": 1}, headers=auth).json()
    assert [c["email"] for c in page["items"]] == ["carol@acme-corp.example"] and page["next_cursor"]
    rest = client.get("/segments/either/contacts", params={"cursor": page["next_cursor"]}, headers=auth).json()
    assert [c["email"] for c in rest["items"]] == ["dave@globex.example"]
    assert client.get("/segments/nope/contacts", headers=auth).status_code == 404
    assert client.get("/segments/hot/contacts").status_code == 401


def test_segment_problems_name_file_and_line() -> None:
    text = '[[segment]]\nname = "x"\nwhen.stagee = "lead"\nwhen.score_at_least = "high"\n\n[[segment]]\nname = "y"\n'
    text += 'when.stage = "prospect"\n'
    with pytest.raises(RulesInvalid) as caught:
        compile_segments([("segments/a.toml", text)], STAGES)
    assert [str(p) for p in caught.value.problems] == [
        "segments/a.toml:3: unknown condition 'stagee' (did you mean 'stage'?)",
        "segments/a.toml:4: 'score_at_least' takes a number (e.g. score_at_least = 30)",
        "segments/a.toml:8: unknown stage 'prospect' (expected one of: subscriber, lead, mql, sql, customer)",
    ]


def test_shipped_segments_compile() -> None:
    files = [(str(p), p.read_text()) for p in sorted((ROOT / "segments").glob("*.toml"))]
    assert {s.name for s in compile_segments(files, STAGES)} == {"hot-leads", "billing-contacts", "freemail-leads"}
