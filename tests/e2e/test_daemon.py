"""`inboxcrm run` as a process: polls a Maildir, serves the API, picks up new mail, stops cleanly."""

from __future__ import annotations

import mailbox
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.support.mail import mail

AUTH = {"Authorization": "Bearer secret-token"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(predicate, what: str, timeout: float = 30.0):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    last: object = None
    while time.monotonic() < deadline:
        try:
            last = predicate()
            if last:
                return last
        except httpx.HTTPError as exc:
            last = exc
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}; last: {last!r}")


def test_run_serves_the_timeline_and_picks_up_new_mail(tmp_path: Path) -> None:
    port = free_port()
    box = mailbox.Maildir(str(tmp_path / "support"), create=True)
    box.add(mail(message_id="first@acme-corp.example", subject="First question"))
    config = tmp_path / "inboxcrm.toml"
    config.write_text(f"""
[database]
url = "sqlite:///inboxcrm.db"
[api]
port = {port}
tokens = [{{ name = "t", value = "secret-token" }}]
[[mailboxes]]
name = "support"
kind = "support"
addresses = ["support@northwind.example"]
source = "maildir"
path = "support"
poll_interval = 0.3
""")
    exe = Path(sys.executable).with_name("inboxcrm")
    process = subprocess.Popen(
        [str(exe), "--config", str(config), "run"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: httpx.get(f"{base}/health").status_code == 200, "the API")
        contacts = wait_for(lambda: httpx.get(f"{base}/contacts", headers=AUTH).json()["items"], "the first message")
        contact_id = contacts[0]["id"]

        box.add(
            mail(
                message_id="second@acme-corp.example", subject="Second question", date="Tue, 03 Nov 2026 10:00:00 +0000"
            )
        )

        def summaries() -> list[str]:
            items = httpx.get(f"{base}/contacts/{contact_id}/timeline", headers=AUTH).json()["items"]
            return [e["summary"] for e in items if e["kind"] == "message_in"]

        assert wait_for(lambda: len(summaries()) == 2 and summaries(), "the new message") == [
            "Second question",
            "First question",
        ]
    finally:
        process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=30)
    assert process.returncode == 0, output
    assert "polling 1 mailbox(es): support" in output
    assert "stopped" in output
