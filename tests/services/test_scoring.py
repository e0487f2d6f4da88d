"""Lead scoring from mail itself, decay and stage thresholds (SQLite and PostgreSQL); the pure parts too."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from inboxcrm import bootstrap
from inboxcrm.adapters.db import migrate
from inboxcrm.core.model import MailboxKind, MailboxProfile
from inboxcrm.core.ports import FetchedMessage
from inboxcrm.core.scoring import decayed, earned_stage
from inboxcrm.services.scoring import decay_scores
from inboxcrm.web.app import create_app
from tests.conftest import make_settings
from tests.support.mail import mail

SCORING = """
[scoring]
half_life = "30d"
keywords = { pricing = 8, demo = 12 }
stages = { lead = 10, mql = 30 }

[scoring.signals]
company_domain = 10
free_mail = -2
message_in = 1
message_out = 0
fast_reply = 5
fast_reply_within = "4h"
"""
SALES = MailboxProfile("sales", MailboxKind.SALES, frozenset({"sales@northwind.example"}))


@pytest.fixture
def scored(tmp_path: Path, database_url: str) -> Iterator[bootstrap.App]:
    app = bootstrap.build(make_settings(tmp_path, database_url, SCORING))
    migrate.upgrade(app.engine)
    yield app
    app.close()


def ingest(app: bootstrap.App, uid: int, raw: bytes) -> None:
    app.ingest.ingest_batch(SALES, "INBOX", 1, [FetchedMessage(uid, raw)])


def test_signals_points_history_and_stage(scored: bootstrap.App) -> None:
    ingest(scored, 1, mail(subject="Pricing for 40 seats", message_id="q@acme-corp.example",
                           date="Mon, 02 Nov 2026 09:00:00 +0000"))  # fmt: skip
    carol = scored.reads.contacts(email="carol@acme-corp.example").items[0]
    assert (carol.score, carol.stage) == (19.0, "lead")  # 1 in + 10 company + 8 keyword

    ingest(scored, 2, mail(from_="Ben <ben@northwind.example>", to="carol@acme-corp.example", subject="Re: Pricing",
                           message_id="a@northwind.example", in_reply_to="q@acme-corp.example",
                           date="Mon, 02 Nov 2026 10:00:00 +0000"))  # fmt: skip
    ingest(scored, 3, mail(subject="Re: Pricing - can we get a demo?", message_id="r@acme-corp.example",
                           in_reply_to="a@northwind.example", date="Mon, 02 Nov 2026 11:00:00 +0000"))  # fmt: skip
    carol = scored.reads.contacts(email="carol@acme-corp.example").items[0]
    # second inbound: +1 message, +5 replied within 1 h, +8 pricing, +12 demo (the company bonus is once per
    # contact), on top of 19 that decayed a little over two hours
    assert carol.score == pytest.approx(19 * 0.5 ** (2 / 720) + 26, abs=0.01) and carol.stage == "mql"
    reasons = [reason for _, _, reason in scored.reads.score_history(carol.id)]
    assert {"writes from a company domain", "replied within 1 h", "mentions 'demo'"} <= set(reasons)
    summaries = [e.summary for e in scored.reads.timeline(carol.id).items]
    assert any(s.startswith("Stage lead → mql: score 44.96") for s in summaries)

    client = TestClient(create_app(scored.reads, {"t": "x"}))
    body = client.get(f"/contacts/{carol.id}/score", headers={"Authorization": "Bearer t"}).json()
    assert body["stage"] == "mql" and len(body["changes"]) == 7

    # thirty days later the points are worth half
    later = datetime(2026, 12, 2, 11, 0, tzinfo=UTC)
    assert decay_scores(scored.store, scored.scoring, later) == 1
    score = scored.reads.contacts(email="carol@acme-corp.example").items[0].score
    assert score == pytest.approx((19 * 0.5 ** (2 / 720) + 26) / 2, abs=0.01)


def test_automatic_mail_and_free_mail(scored: bootstrap.App) -> None:
    ingest(scored, 1, mail(from_="erin@gmail.com", subject="Hello", message_id="e@gmail.com"))
    ingest(scored, 2, mail(from_="erin@gmail.com", subject="Out of office", message_id="o@gmail.com",
                           headers={"Auto-Submitted": "auto-replied"}))  # fmt: skip
    erin = scored.reads.contacts(email="erin@gmail.com").items[0]
    assert (erin.score, erin.stage) == (-1.0, None)  # +1 wrote, -2 free mail; the auto-reply scores nothing


def test_pure_decay_and_stage_rules() -> None:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    assert decayed(40.0, start, start + timedelta(days=60), timedelta(days=30)) == pytest.approx(10.0)
    assert decayed(40.0, start, start + timedelta(days=60), None) == 40.0
    order = ("subscriber", "lead", "mql", "sql", "customer")
    thresholds = {"lead": 10, "mql": 30}
    assert earned_stage(35, "subscriber", thresholds, order) == "mql"
    assert earned_stage(35, "mql", thresholds, order) is None
    assert earned_stage(5, "customer", thresholds, order) is None  # a low score never demotes
