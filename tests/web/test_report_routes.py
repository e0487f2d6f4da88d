"""What the report routes accept and refuse, on SQLite and PostgreSQL: the range's defaults and the dates and
times it reads, bad dates and score edges (422 with a clear message), and the read scope every report needs.
"""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import Depends, Header, HTTPException
from sqlalchemy import Engine

from inboxcrm.adapters.db.reports import SqlReports
from inboxcrm.web.auth import Scope
from tests.web.reports_support import client_for


def test_the_range_defaults_to_the_last_30_days_and_reads_dates_and_times(engine: Engine) -> None:
    client = client_for(SqlReports(engine))
    body = client.get("/reports/agents").json()
    assert (body["since"], body["until"]) == ("2026-10-11T12:00:00Z", "2026-11-10T12:00:00Z")
    body = client.get("/reports/agents", params={"since": "2026-11-01T10:00:00+02:00"}).json()
    assert (body["since"], body["until"]) == ("2026-11-01T08:00:00Z", "2026-11-10T12:00:00Z")
    body = client.get("/reports/agents", params={"until": "2026-11-01T10:00:00"}).json()  # no offset: UTC
    assert (body["since"], body["until"]) == ("2026-10-02T10:00:00Z", "2026-11-01T10:00:00Z")
    # a "+" the client forgot to encode arrives as a space
    body = client.get("/reports/agents?since=2026-11-01T10:00:00+02:00").json()
    assert body["since"] == "2026-11-01T08:00:00Z"


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"since": "yesterday"}, "since: 'yesterday' is not an ISO 8601 date"),
        ({"until": "2026-13-01"}, "until: '2026-13-01' is not an ISO 8601 date"),
        ({"since": "2026-11-05", "until": "2026-11-04"}, "must be before until"),
        ({"since": "2026-11-05T00:00:00Z", "until": "2026-11-05T00:00:00Z"}, "must be before until"),
        ({"until": "9999-12-31"}, "until: '9999-12-31' is out of range"),
        ({"until": "9999-12-31T23:00:00-05:00"}, "is out of range"),
        ({"until": "0001-01-05"}, "give since"),
    ],
)
def test_bad_dates_are_422_with_a_clear_message(engine: Engine, params: dict[str, str], message: str) -> None:
    client = client_for(SqlReports(engine))
    for path in ("/reports/tickets", "/reports/response-times", "/reports/sla", "/reports/agents",
                 "/reports/funnel", "/reports/scores"):  # fmt: skip
        response = client.get(path, params=params)
        assert response.status_code == 422, path
        assert message in response.json()["detail"]


@pytest.mark.parametrize(
    ("edges", "message"),
    [("0,ten", "not a comma-separated list of numbers"), ("10,0", "strictly increasing"), ("0,nan", "finite")],
)
def test_bad_score_edges_are_422(engine: Engine, edges: str, message: str) -> None:
    response = client_for(SqlReports(engine)).get("/reports/scores", params={"edges": edges})
    assert response.status_code == 422 and message in response.json()["detail"]


def test_every_report_needs_the_read_scope(engine: Engine) -> None:
    asked: list[Scope] = []

    def require(scope: Scope) -> Any:
        asked.append(scope)

        def check(x_scope: str = Header("")) -> None:
            if x_scope != "read":
                raise HTTPException(status_code=403, detail="no")

        return Depends(check)

    client = client_for(SqlReports(engine), require)
    assert asked == [Scope.READ]
    for path in ("/reports/tickets", "/reports/response-times", "/reports/sla", "/reports/agents",
                 "/reports/funnel", "/reports/scores"):  # fmt: skip
        assert client.get(path).status_code == 403
        assert client.get(path, headers={"X-Scope": "read"}).status_code == 200
