"""What `inboxcrm run` starts beside the API: the pollers, gated by the mailbox leases, and the alerts.

`prepare(app)` builds them; `start(stop)` takes the first lease round (so that the pollers know at once
which mailboxes are theirs) and starts the threads; `ticks()` are added to the daemon's scheduler.
"""

from __future__ import annotations

import contextlib
import functools
import os
import secrets
import socket
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta

from inboxcrm import bootstrap
from inboxcrm.adapters import scheduler
from inboxcrm.adapters.db.incidents import SqlIncidents
from inboxcrm.adapters.db.leases import SqlLeases
from inboxcrm.core.model import Address
from inboxcrm.services.alerts import Alerts
from inboxcrm.services.polling import MailboxPoller
from inboxcrm.services.sharing import Sharing


@dataclass
class Daemon:
    pollers: list[MailboxPoller]
    sharing: Sharing
    alerts: Alerts
    alert_every: float

    def start(self, stop: threading.Event) -> list[threading.Thread]:
        """The lease thread and one thread per poller, started."""
        with contextlib.suppress(Exception):  # the lease thread retries; until then no mailbox is ours
            self.sharing.round()
        threads = [threading.Thread(target=self.sharing.run, args=(stop,), name="leases", daemon=True)]
        threads += [
            threading.Thread(target=p.run, args=(stop,), name=f"poll-{p.mailbox.name}", daemon=True)
            for p in self.pollers
        ]
        for thread in threads:
            thread.start()
        return threads

    def ticks(self) -> list[scheduler.Tick]:
        return [scheduler.Tick("alerts", self.alerts.tick, self.alert_every)]


def alert_sender(app: bootstrap.App) -> Address:
    """Who alert mail is from: `[alerts] sender`, else the outbox user, else the first shared address."""
    settings = app.settings
    for candidate in (settings.alerts.sender, settings.outbox.user):
        if candidate and "@" in candidate:
            return Address(candidate.lower())
    addresses = [a for m in settings.mailboxes for a in m.addresses]
    return Address(addresses[0] if addresses else "inboxcrm@localhost", "inboxcrm")


def prepare(app: bootstrap.App, environ: Mapping[str, str] | None = None) -> Daemon:
    settings = app.settings
    holder = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"
    sharing = Sharing(
        SqlLeases(app.engine, holder), [m.name for m in settings.mailboxes], app.clock, settings.cluster.takeover
    )
    pollers = bootstrap.pollers(app, environ)
    for poller in pollers:
        poller.may_fetch = functools.partial(sharing.holds, poller.mailbox.name)
    sender = app.dispatcher.sender
    alerts = Alerts(
        SqlIncidents(app.engine),
        app.clock,
        timedelta(seconds=settings.alerts.alert_after),
        alert_sender(app),
        settings.alerts.to,
        lambda: [p.health for p in pollers],
        lambda: getattr(sender, "auth_problem", None),
    )
    every = max(1.0, min(30.0, settings.alerts.alert_after / 4))
    return Daemon(pollers, sharing, alerts, every)
