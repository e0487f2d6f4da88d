"""The customer record's part of the wiring (see `bootstrap.py`): search, custom fields and business events,
CSV in and out, and webhooks, built from the settings."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine

from inboxcrm.adapters.db.record_reads import SqlRecordReads
from inboxcrm.adapters.db.search import SqlSearch
from inboxcrm.adapters.webhook_http import HttpPoster
from inboxcrm.config import Settings
from inboxcrm.core.business import Revenue
from inboxcrm.core.fields import FieldDef
from inboxcrm.core.ports import Store
from inboxcrm.services.contacts_csv import ContactsCsv
from inboxcrm.services.outreach import Outreach
from inboxcrm.services.record import CustomerRecord
from inboxcrm.services.routing import Routing
from inboxcrm.services.search import SearchService
from inboxcrm.services.webhooks import RetryTiming, Webhook, WebhookDispatcher

log = logging.getLogger(__name__)


def field_defs(settings: Settings) -> tuple[FieldDef, ...]:
    """The custom fields the config declares (`[[fields]]`)."""
    return tuple(FieldDef(f.name, f.type, f.choices, f.label) for f in settings.fields)


def webhooks(settings: Settings, environ: Mapping[str, str]) -> list[Webhook]:
    """The configured webhooks, with their secrets from `environ`."""
    secrets = settings.webhook_secrets(environ)
    return [Webhook(w.name, w.url, frozenset(w.events), secrets[w.name], w.timeout) for w in settings.webhooks]


def record_parts(
    settings: Settings,
    engine: Engine,
    store: Store,
    clock: Callable[[], datetime],
    routing: Callable[[], Routing | None],
    outreach: Outreach,
    hooks: list[Webhook],
) -> dict[str, Any]:
    """The `App` fields of the customer record: search, record, contacts_csv, webhooks."""
    half_life = timedelta(seconds=settings.scoring.half_life) if settings.scoring.half_life else None
    record = CustomerRecord(
        store,
        SqlRecordReads(engine),
        field_defs(settings),
        clock,
        Revenue(settings.events.revenue, settings.events.refunds),
        routing,
        outreach,
        half_life,
    )
    delivery = settings.webhook_delivery
    timing = RetryTiming(
        timedelta(seconds=delivery.retry_first),
        timedelta(seconds=delivery.retry_max),
        timedelta(seconds=delivery.give_up_after),
    )
    return {
        "search": SearchService(SqlSearch(engine)),
        "record": record,
        "contacts_csv": ContactsCsv(store, SqlRecordReads(engine), record, settings.lifecycle.stages, clock),
        "webhooks": WebhookDispatcher(store, HttpPoster(), hooks, timing),
    }


def search_language(store: Store, wanted: str, now: datetime) -> None:
    """A new index takes the configured language; an index built in another one says so (a rebuild switches)."""
    with store.transaction() as tx:
        found = tx.claim_search_language(wanted, now)
    if found != wanted:
        log.warning("the search index is in %r, the config says %r: run `inboxcrm search --rebuild`", found, wanted)
