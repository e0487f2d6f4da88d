"""What the report route tests share: a client for the report routes over `SqlReports` (stages `STAGES`,
the clock at `NOW`, no auth unless given) and `at`, a UTC moment from "YYYY-MM-DD HH:MM"."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import Depends, FastAPI
from fastapi.testclient import TestClient

from inboxcrm.adapters.db.reports import SqlReports
from inboxcrm.web.reports import report_routes

STAGES = ("subscriber", "lead", "mql", "sql", "customer")
NOW = datetime(2026, 11, 10, 12, 0, tzinfo=UTC)


def client_for(reports: SqlReports, require: Any = None) -> TestClient:
    app = FastAPI()
    require = require or (lambda scope: Depends(lambda: None))
    app.include_router(report_routes(reports, require=require, stages=STAGES, now=lambda: NOW))
    return TestClient(app)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)
