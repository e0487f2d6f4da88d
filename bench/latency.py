"""How long from a message arriving in IMAP to its ticket being visible in the API: IDLE against polling.

One `inboxcrm run` (with the API) watches two support mailboxes on a private Dovecot, both at the default
poll interval (60 s): "idle" waits in IDLE (the default), "polled" has `idle = false`. The script appends
50 messages to each at the same random moments (0.2–4 s apart, interleaved), watches `GET /tickets` every
20 ms, and reports per mailbox the time from the end of the APPEND to the ticket's first sight in the API:
p50, p95 and max, and the ratio polled/IDLE. Run: `.venv/bin/python bench/latency.py [--messages N]`.
"""

from __future__ import annotations

import argparse
import email.utils
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from email.message import EmailMessage
from email.policy import SMTP
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

from tests.support.dovecot import free_port, start_dovecot  # noqa: E402

TOKEN = "bench-token"


def config(work: Path, host: str, port: int, api_port: int) -> Path:
    boxes = "".join(
        f"""
[[mailboxes]]
name = "{name}"
kind = "support"
addresses = ["{name}@northwind.example"]
host = "{host}"
port = {port}
security = "none"
user = "{user}"
password_env = "BENCH_IMAP_PASSWORD"
idle = {idle}
"""
        for name, user, idle in (("idle", "inboxcrm", "true"), ("polled", "polled", "false"))
    )
    file = work / "inboxcrm.toml"
    file.write_text(f"""
[database]
url = "sqlite:///{work / "bench.db"}"

[api]
port = {api_port}
tokens = [{{ name = "bench", value = "{TOKEN}" }}]
rate_limit = 1000000  # the bench looks every 20 ms: far above the default 600 a minute

[logging]
level = "WARNING"
{boxes}""")
    return file


def probe(mailbox: str, n: int, subject: str) -> bytes:
    """A new conversation from a new customer: it opens a ticket."""
    message = EmailMessage(policy=SMTP)
    message["From"] = f"Customer {n} <customer{n}@acme-{mailbox}.example>"
    message["To"] = f"{mailbox}@northwind.example"
    message["Subject"] = subject
    message["Date"] = email.utils.formatdate()
    message["Message-ID"] = email.utils.make_msgid(domain=f"acme-{mailbox}.example")
    message.set_content("Hello, our order has not arrived yet. Could you check?\n")
    return message.as_bytes()


def tickets(base: str) -> dict[str, str]:
    """Subject → mailbox of every ticket the API shows now."""
    seen: dict[str, str] = {}
    cursor = None
    while True:
        params = {"limit": "200", **({"cursor": cursor} if cursor else {})}
        response = httpx.get(f"{base}/tickets", params=params, headers={"Authorization": f"Bearer {TOKEN}"})
        response.raise_for_status()
        page = response.json()
        seen.update({item["subject"]: item["mailbox"] for item in page["items"]})
        cursor = page["next_cursor"]
        if not cursor:
            return seen


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=50)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory(prefix="inboxcrm-latency-") as tmp:
        work = Path(tmp)
        server = start_dovecot(work / "dovecot", extra_users=("polled",))
        api_port = free_port()
        file = config(work, server.host, server.port, api_port)
        env = {**os.environ, "BENCH_IMAP_PASSWORD": server.password}
        daemon = subprocess.Popen(
            [sys.executable, "-m", "inboxcrm", "--config", str(file), "run"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        base = f"http://127.0.0.1:{api_port}"
        appended: dict[str, float] = {}
        visible: dict[str, float] = {}
        done = threading.Event()

        def watch() -> None:
            while not done.is_set():
                try:
                    now = time.monotonic()
                    for subject in tickets(base):
                        visible.setdefault(subject, now)
                except httpx.HTTPError:
                    pass
                time.sleep(0.02)

        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                try:
                    if httpx.get(f"{base}/health").status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                time.sleep(0.2)
            time.sleep(2)  # both mailboxes had their first poll; "idle" is waiting in IDLE now
            watcher = threading.Thread(target=watch, daemon=True)
            watcher.start()
            for n in range(args.messages):
                time.sleep(rng.uniform(0.2, 4.0))
                for user, mailbox in (("inboxcrm", "idle"), ("polled", "polled")):
                    subject = f"[{mailbox} {n:03d}] latency probe"
                    server.append_many("INBOX", [probe(mailbox, n, subject)], user=user)
                    appended[subject] = time.monotonic()
            wait_until = time.monotonic() + 180
            while len(set(appended) - set(_prefixed(visible, appended))) and time.monotonic() < wait_until:
                time.sleep(0.5)
        finally:
            done.set()
            daemon.send_signal(signal.SIGTERM)
            daemon.wait(30)
            server.stop()
    report(appended, visible, args.messages)


def _prefixed(visible: dict[str, float], appended: dict[str, float]) -> dict[str, float]:
    """Appended subject → when its ticket was first seen (the ticket's subject starts with ours)."""
    found: dict[str, float] = {}
    for subject, at in visible.items():
        for probe in appended:
            if subject.startswith(probe):
                found[probe] = at
    return found


def report(appended: dict[str, float], visible: dict[str, float], count: int) -> None:
    seen = _prefixed(visible, appended)
    print(f"arrival → ticket visible in the API, {count} messages per mailbox, same run (seconds)")
    print(f"{'mailbox':<22} {'seen':>5} {'p50':>8} {'p95':>8} {'max':>8}")
    figures = {}
    for mailbox, label in (("idle", "IDLE"), ("polled", "polling every 60 s")):
        lat = [seen[s] - appended[s] for s in appended if s.startswith(f"[{mailbox} ") and s in seen]
        if not lat:
            print(f"{label:<22} {0:>5}")
            continue
        figures[mailbox] = (statistics.median(lat), percentile(lat, 0.95), max(lat))
        p50, p95, most = figures[mailbox]
        print(f"{label:<22} {len(lat):>5} {p50:>8.3f} {p95:>8.3f} {most:>8.3f}")
    if len(figures) == 2:
        ratio = figures["polled"][1] / figures["idle"][1]
        print(f"p95 polling / p95 IDLE: {ratio:,.0f}x")


if __name__ == "__main__":
    main()
