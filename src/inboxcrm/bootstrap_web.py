"""What the running daemon adds to the web app, built from the app by `bootstrap.features` (imported only by
what serves the web app)."""

from __future__ import annotations

import os
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.exc import DataError

from inboxcrm.adapters.db import tables as t
from inboxcrm.adapters.db.desk_reports import DeskReports
from inboxcrm.adapters.db.incidents import SqlIncidents
from inboxcrm.adapters.db.reports import SqlReports
from inboxcrm.adapters.db.spans import mail_span
from inboxcrm.adapters.db.ticket_history import SqlTicketHistory
from inboxcrm.bootstrap_reports import report_data
from inboxcrm.services.desk_views import DeskViews
from inboxcrm.services.manage import Manage
from inboxcrm.services.privacy import Privacy
from inboxcrm.services.satisfaction import SurveyLinks
from inboxcrm.web.app import Features

if TYPE_CHECKING:
    from inboxcrm.bootstrap import App


def web_features(app: App) -> Features:
    """What the daemon adds to the API: changes, customer data, reports, pages and metrics."""
    settings = app.settings
    reports = SqlReports(app.engine)
    stages = settings.lifecycle.stages

    def message_html(message_id: int) -> str | None:
        with app.engine.connect() as connection:
            found = connection.execute(select(t.messages.c.html).where(t.messages.c.id == message_id)).scalar()
        return str(found) if found is not None else None

    def collision_counts(since: datetime, until: datetime) -> dict[str, int]:
        with app.store.transaction() as tx:
            return tx.collision_counts(since, until)

    return Features(
        desk=DeskViews(app.templates, collision_counts),
        manage=Manage(app.store, app.support, app.outreach, app.clock, stages, app.record),
        privacy=Privacy(app.store, settings.reply_secret(os.environ), app.clock),
        reports=reports,
        message_html=message_html,
        report_data=report_data(app, reports),
        rule_problems=lambda: len(app.rules.problems),
        value_errors=(DataError,),
        clock=app.clock,
        stages=stages,
        search=app.search,
        record=app.record,
        surveys=SurveyLinks(app.store, app.support, app.clock),
        satisfaction=DeskReports(app.engine, reports).satisfaction,
        contacts_csv=app.contacts_csv,
        incidents=SqlIncidents(app.engine).open_now,
        history=SqlTicketHistory(app.engine),
        data_span=lambda: mail_span(app.engine),
    )
