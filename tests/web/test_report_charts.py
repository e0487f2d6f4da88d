"""The reports page as a team lead reads it, with the real report queries over a desk's data (SQLite):
through TestClient (every chart present, funnel shares ≤ 100 %, numbers rounded) and in real Chromium at a
desktop and a phone width (every chart drawn with bars or lines and labels; screenshots in
test-artifacts/pages/)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import insert

from inboxcrm import bootstrap
from inboxcrm.adapters.db import migrate
from inboxcrm.adapters.db import tables as t
from inboxcrm.web.app import create_app
from tests.conftest import make_settings
from tests.support.browser import browser_sign_in, headless_chrome, screenshot, serving
from tests.web.pages_support import EXTRA, Document

TOKEN = "lead-token"
NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
CHARTS = {
    "tickets-by-day": "bar",
    "first-response": "line",
    "resolution": "line",
    "queue-times": "bar",
    "sla": "line",
    "agents": "bar",
    "csat": "line",
    "funnel": "bar",
    "scores": "bar",
    "pipeline": "bar",
}


def seed(app: bootstrap.App) -> None:
    """Eight weeks of a two-queue desk: tickets answered and solved at varying speeds, some SLA targets
    missed, ratings, contacts at every lifecycle stage with scores, and deals."""
    with app.engine.begin() as c:
        c.execute(insert(t.companies), [{"id": 1, "domain": "acme-corp.example", "name": "Acme", "created_at": NOW}])
        stages = ["subscriber"] * 9 + ["lead"] * 6 + ["mql"] * 3 + ["sql"] * 4 + ["customer"] * 2
        c.execute(
            insert(t.contacts),
            [
                {
                    "id": n + 1,
                    "email": f"c{n}@acme-corp.example",
                    "name": f"Customer {n}",
                    "company_id": 1,
                    "created_at": NOW - timedelta(days=n),
                    "score": (n * 37.3) % 118,
                    "stage": stage,
                }
                for n, stage in enumerate(stages)
            ],
        )
        c.execute(
            insert(t.threads),
            [
                {
                    "id": n + 1,
                    "subject": f"Question {n}",
                    "mailbox": "support",
                    "created_at": NOW,
                    "last_message_at": NOW,
                }
                for n in range(40)
            ],
        )
        tickets, ratings = [], []
        for n in range(40):
            opened = NOW - timedelta(days=56 - n * 1.4, hours=n % 5)
            first = opened + timedelta(minutes=20 + 45 * (n % 7))
            solved = opened + timedelta(hours=3 + 9 * (n % 4)) if n % 6 else None
            tickets.append(
                {
                    "id": n + 1,
                    "thread_id": n + 1,
                    "mailbox": "support",
                    "contact_id": n % 24 + 1,
                    "subject": f"Question {n}",
                    "status": "solved" if solved else "open",
                    "created_at": opened,
                    "updated_at": opened,
                    "queue": "billing" if n % 3 == 0 else "support",
                    "priority": "normal",
                    "assignee": ("ana", "ben", None)[n % 3],
                    "first_response_at": first,
                    "solved_at": solved,
                    "first_response_due": opened + timedelta(hours=4),
                    "resolution_due": opened + timedelta(days=1),
                    "first_response_breached_at": opened + timedelta(hours=4) if n % 9 == 0 else None,
                    "resolution_breached_at": opened + timedelta(days=1) if solved is None else None,
                }
            )
            if solved and n % 2 == 0:
                rating = ("good", "good", "okay", "bad")[n % 4 // 1 % 4]
                ratings.append(
                    {
                        "ticket_id": n + 1,
                        "asked_at": solved,
                        "rating": rating,
                        "comment": "Slow." if rating == "bad" else None,
                        "rated_at": solved + timedelta(hours=2),
                        "assignee": ("ana", "ben", None)[n % 3],
                        "queue": "billing" if n % 3 == 0 else "support",
                    }
                )
        c.execute(insert(t.tickets), tickets)
        c.execute(insert(t.satisfaction), ratings)
        c.execute(
            insert(t.deals),
            [
                {"company_id": 1, "name": f"Deal {n}", "value": v, "stage": s, "created_at": NOW, "updated_at": NOW}
                for n, (s, v) in enumerate(
                    [("qualified", 1200.5), ("proposal", 4200.0), ("proposal", 800.0), ("won", 9000.0)]
                )
            ],
        )


@pytest.fixture
def lead_app(tmp_path: Path) -> Iterator[bootstrap.App]:
    app = bootstrap.build(make_settings(tmp_path, f"sqlite:///{tmp_path / 'reports.db'}", EXTRA), clock=lambda: NOW)
    migrate.upgrade(app.engine)
    seed(app)
    yield app
    app.close()


def web(app: bootstrap.App) -> Any:
    return create_app(app.reads, tokens={TOKEN: "lead"}, features=bootstrap.features(app))


def test_every_chart_with_real_figures(lead_app: bootstrap.App) -> None:
    with TestClient(web(lead_app), base_url="https://crm.example") as client:
        page = client.get("/reports/page", headers={"Authorization": f"Bearer {TOKEN}"})  # the default window
    assert page.status_code == 200
    document = Document(page.text)
    sections = [a["id"] for a in document.all("section")]
    for section in CHARTS:
        assert section in sections
        body = page.text.split(f'id="{section}"', 1)[1].split("</section>", 1)[0]
        assert "<svg" in body, f"{section}: no chart"
    shares = [int(s) for s in re.findall(r"\((\d+)% of ", page.text)]
    assert shares and all(s <= 100 for s in shares)  # a funnel never exceeds the stage before it
    assert "sql: 6 (67% of mql)" in page.text  # 4 at sql + 2 customers reached sql; 3 + 4 + 2 reached mql
    assert not re.search(r"\d\.\d{3,}", page.text)  # numbers rounded for people
    assert ">100+<" in page.text  # the last score bucket is labelled too
    assert "CSAT " in page.text


def test_the_reports_page_in_chromium(lead_app: bootstrap.App, chromium: tuple[str, str]) -> None:
    with serving(web(lead_app)) as base, headless_chrome(chromium) as driver:
        driver.get(f"{base}/sign-in")
        browser_sign_in(driver, TOKEN)
        driver.get(f"{base}/reports/page")
        for phone in (False, True):
            screenshot(driver, "reports-lead", phone=phone)
            for section, kind in CHARTS.items():
                chart = driver.find_element("css selector", f"#{section} svg.chart")
                assert chart.rect["width"] > 200 and chart.rect["height"] > 50, section
                if kind == "bar":
                    heights = [b.rect["height"] for b in chart.find_elements("css selector", "rect.bar")]
                    assert heights and max(heights) > 5, section
                else:
                    lines = chart.find_elements("css selector", "polyline.line")
                    assert lines and max(line.rect["width"] for line in lines) > 50, section
                labels = [x.text for x in chart.find_elements("css selector", "text") if x.text.strip()]
                assert len(labels) >= 2, section
                if phone:
                    assert chart.rect["width"] <= 390, section
