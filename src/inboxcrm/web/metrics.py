"""`GET /metrics` in the Prometheus text format.

Values are read from the database (and the pollers' health) when Prometheus scrapes, not counted in memory:
they are right after a restart and when several daemons share the work.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from datetime import datetime

from fastapi import APIRouter
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from inboxcrm.core.alerts import Incident
from inboxcrm.services.polling import MailboxHealth
from inboxcrm.services.reports import ReadService
from inboxcrm.web.auth import Require, Scope


class _FromTheDatabase(Collector):
    def __init__(
        self,
        reads: ReadService,
        health: Callable[[], Sequence[MailboxHealth]],
        rule_problems: Callable[[], int],
        clock: Callable[[], datetime],
        incidents: Callable[[], Sequence[Incident]] = lambda: (),
    ) -> None:
        self._incidents = incidents
        self._reads = reads
        self._health = health
        self._rule_problems = rule_problems
        self._clock = clock

    def collect(self) -> Iterator[Metric]:
        counts = self._reads.status()
        ingested = CounterMetricFamily("inboxcrm_messages_ingested", "Messages stored and understood.")
        ingested.add_metric([], counts.get("messages", 0))
        yield ingested
        quarantined = GaugeMetricFamily("inboxcrm_quarantined", "Messages held in quarantine, not yet resolved.")
        quarantined.add_metric([], counts.get("quarantined", 0))
        yield quarantined
        depth = GaugeMetricFamily("inboxcrm_outbox_depth", "Outgoing mail waiting to be sent.")
        depth.add_metric([], counts.get("outbox_queued", 0))
        yield depth
        results = CounterMetricFamily("inboxcrm_outbox_results", "Outgoing mail by result.", labels=["result"])
        for result in ("sent", "failed", "cancelled"):
            results.add_metric([result], counts.get(f"outbox_{result}", 0))
        yield results
        hooks = GaugeMetricFamily(
            "inboxcrm_webhook_deliveries", "Webhook deliveries by state (queued: not yet delivered).", labels=["status"]
        )
        for status in ("queued", "sent", "failed"):
            hooks.add_metric([status], counts.get(f"webhooks_{status}", 0))
        yield hooks
        now = self._clock()
        lag = GaugeMetricFamily(
            "inboxcrm_mailbox_lag_seconds", "Seconds since a mailbox was last read successfully.", labels=["mailbox"]
        )
        up = GaugeMetricFamily("inboxcrm_mailbox_up", "1 when the last poll of a mailbox worked.", labels=["mailbox"])
        for box in self._health():
            if not box.fetched_here:
                continue  # another daemon fetches it: its /metrics say how it goes
            if box.last_success is not None:
                lag.add_metric([box.mailbox], (now - box.last_success).total_seconds())
            up.add_metric([box.mailbox], 1.0 if box.ok else 0.0)
        yield lag
        yield up
        errors = GaugeMetricFamily("inboxcrm_rule_errors", "Problems in the rule files (the last good set is used).")
        errors.add_metric([], self._rule_problems())
        yield errors
        incidents = GaugeMetricFamily(
            "inboxcrm_incident_open",
            "1 per open incident (the admins were mailed); the same as /health's incidents.",
            labels=["key", "problem"],
        )
        for incident in self._incidents():
            incidents.add_metric([incident.key, incident.problem], 1.0)
        yield incidents


def metrics_routes(
    reads: ReadService,
    require: Require,
    health: Callable[[], Sequence[MailboxHealth]],
    rule_problems: Callable[[], int],
    clock: Callable[[], datetime],
    incidents: Callable[[], Sequence[Incident]] = lambda: (),
) -> APIRouter:
    """The `/metrics` route (read scope: give Prometheus a read token)."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_FromTheDatabase(reads, health, rule_problems, clock, incidents))
    router = APIRouter(dependencies=[require(Scope.READ)])

    @router.get("/metrics", include_in_schema=False)
    def metrics() -> Response:
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    return router
