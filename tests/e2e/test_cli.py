"""The command line as a user runs it: check, import (resumable, idempotent), quarantine, threads."""

from __future__ import annotations

import json
import mailbox
import os
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from inboxcrm.cli import main
from tests.conftest import make_settings
from tests.support.mail import mail

ROOT = Path(__file__).resolve().parents[2]


def config_file(tmp_path: Path, database_url: str) -> str:
    make_settings(tmp_path, database_url)
    config = str(tmp_path / "inboxcrm.toml")
    if database_url.startswith("postgresql"):
        # PostgreSQL is shared by several daemons: its schema is only ever upgraded on purpose.
        code, _, err = invoke(config, "status")
        assert code == 2 and "run `inboxcrm db upgrade` first" in err
        assert invoke(config, "db", "upgrade")[1].startswith("database at revision")
    return config


def invoke(config: str, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["--config", config, *args], catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def test_check_reports_every_problem_with_file_line_and_exits_non_zero(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(
        '[database]\nurl = "sqlite:///x.db"\n\n[[mailboxes]]\nname = "support"\nkind = "helpdesk"\n'
        'addresses = ["support@x.example"]\nhost = "imap.x.example"\nuser = "u"\npassword_env = "P"\n'
        "colour = 3\n"
    )
    code, _, err = invoke(str(bad), "check")
    assert code == 2
    assert f"{bad}:6: mailboxes[0].kind: Input should be 'support', 'sales' or 'other'" in err
    assert f"{bad}:11: mailboxes[0].colour: unknown key" in err
    # `run` refuses to start on the same config, with the same messages
    code, _, err = invoke(str(bad), "run", "--once")
    assert code == 2 and "mailboxes[0].colour: unknown key" in err and "nothing was started" in err


def test_import_is_idempotent_and_resumable(tmp_path: Path, empty_database_url: str) -> None:
    config = config_file(tmp_path, empty_database_url)
    box = mailbox.mbox(str(tmp_path / "archive.mbox"))
    for i in range(30):
        box.add(mail(message_id=f"m{i}@acme-corp.example", subject=f"Order {i}"))
    box.flush()
    code, out, _ = invoke(config, "import", str(tmp_path / "archive.mbox"), "--batch-size", "7")
    assert (code, out.strip()) == (0, "30 read, 30 stored, 0 already stored, 0 quarantined")
    code, out, _ = invoke(config, "import", str(tmp_path / "archive.mbox"))
    assert out.strip() == "0 read, 0 stored, 0 already stored, 0 quarantined"

    # the archive grew (or an import was interrupted): only the rest is read
    for i in range(30, 35):
        box.add(mail(message_id=f"m{i}@acme-corp.example"))
    box.flush()
    code, out, _ = invoke(config, "import", str(tmp_path / "archive.mbox"))
    assert out.strip() == "5 read, 5 stored, 0 already stored, 0 quarantined"

    # the same messages in another file are recognised by content
    copy = tmp_path / "copy.mbox"
    copy.write_bytes((tmp_path / "archive.mbox").read_bytes())
    code, out, _ = invoke(config, "import", str(copy))
    assert out.strip() == "35 read, 0 stored, 35 already stored, 0 quarantined"

    code, out, _ = invoke(config, "threads", "--json")
    assert len([json.loads(line) for line in out.splitlines()]) == 35


def test_quarantine_list_and_retry(tmp_path: Path, empty_database_url: str) -> None:
    config = config_file(tmp_path, empty_database_url)
    (tmp_path / "mail").mkdir()
    (tmp_path / "mail" / "a.eml").write_bytes(mail())
    (tmp_path / "mail" / "b.eml").write_bytes(b"\x00\x00 this is a core dump, not a message")
    code, out, err = invoke(config, "import", str(tmp_path / "mail"), "--mailbox", "support")
    assert out.strip() == "2 read, 1 stored, 0 already stored, 1 quarantined"
    assert "quarantined b.eml: " in err
    code, out, _ = invoke(config, "quarantine", "list", "--json")
    held = [json.loads(line) for line in out.splitlines()]
    assert [(h["mailbox"], h["attempts"]) for h in held] == [("support", 1)]
    assert "does not look like an email" in held[0]["error"]
    code, out, _ = invoke(config, "quarantine", "retry")
    assert (code, out.strip()) == (0, "0 recovered, 1 still in quarantine")


def test_import_into_an_unknown_mailbox_is_refused(tmp_path: Path) -> None:
    config = config_file(tmp_path, f"sqlite:///{tmp_path / 'x.db'}")
    (tmp_path / "a.eml").write_bytes(mail())
    result = CliRunner().invoke(main, ["--config", config, "import", str(tmp_path / "a.eml"), "--mailbox", "nope"])
    assert result.exit_code == 2 and "no mailbox named 'nope'" in result.stderr


def test_installed_command_runs_once_on_the_demo(tmp_path: Path) -> None:
    """The shipped demo config, through the real console script, on a copy of the demo: its shipped mail is
    history (filed, nobody mailed); the mail scripts/demo_mail.py delivers afterwards is live."""
    demo = tmp_path / "demo"
    subprocess.run(["cp", "-r", str(ROOT / "demo"), str(demo)], check=True)
    config = (demo / "inboxcrm.toml").read_text().replace("../var/demo", "var").replace("../rules", str(ROOT / "rules"))
    config = config.replace("../templates", str(ROOT / "templates")).replace("../campaigns", str(ROOT / "campaigns"))
    (demo / "inboxcrm.toml").write_text(config)
    exe = Path(sys.executable).with_name("inboxcrm")
    env = dict(os.environ)

    def world(step: str) -> None:
        script = ROOT / "scripts" / "demo_mail.py"
        subprocess.run([sys.executable, str(script), step, "--var", str(demo / "var")], check=True, timeout=60)

    def run_once() -> dict[str, str]:
        done = subprocess.run(
            [str(exe), "--config", str(demo / "inboxcrm.toml"), "run", "--once"],
            capture_output=True, text=True, env=env, timeout=120, check=False,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        return dict(line.split(": ", 1) for line in done.stdout.splitlines())

    world("prepare")
    lines = run_once()
    total = sum(len(list((demo / "maildir" / box / "new").iterdir())) for box in ("support", "sales"))
    read = sum(int(lines[box].split()[0]) for box in ("support", "sales"))
    assert read == total > 20
    assert " 0 quarantined" in lines["support"]
    # the shipped mail is history: filed without a single acknowledgement, auto-reply or notification
    assert lines["outbox"].startswith("0 sent") and not list((demo / "var" / "outbox").glob("*.eml"))
    status = subprocess.run(
        [str(exe), "--config", str(demo / "inboxcrm.toml"), "status"],
        capture_output=True, text=True, env=env, timeout=60, check=True,
    )  # fmt: skip
    assert "history support maildir: done: 21 of 21 read" in status.stdout

    # customers write after the demo started: live mail, answered and notified
    world("deliver")
    lines = run_once()
    written = {path.name: path.read_bytes() for path in (demo / "var" / "outbox").glob("*.eml")}
    kinds = sorted(name.split("-")[0] for name in written)
    assert kinds.count("ack") == 1 and kinds.count("auto_reply") == 1 and kinds.count("notify") == 2, kinds
    (ack,) = [raw for name, raw in written.items() if name.startswith("ack-")]
    assert b"To: Nadia Petrova <nadia.petrova@wayne-enterprises.example>" in ack
    assert b"Auto-Submitted: auto-replied" in ack

    # the agent answers the notification through the relay: the customer gets the whole reply, signed
    world("answer")
    lines = run_once()
    (relay,) = [p.read_bytes() for p in (demo / "var" / "outbox").glob("relay-*.eml")]
    assert b"nadia.petrova@wayne-enterprises.example" in relay and b"Kind regards," in relay
    assert b"ana@northwind.example" not in relay and b"ben@northwind.example" not in relay
    assert b"5550 1234" not in relay  # the agent's phone numbers stay inside the team
    sent = sum(1 for _ in (demo / "var" / "outbox").glob("*.eml"))
    listed = subprocess.run(
        [str(exe), "--config", str(demo / "inboxcrm.toml"), "outbox", "list", "--status", "sent", "--limit", "500"],
        capture_output=True, text=True, env=env, timeout=60, check=True,
    )  # fmt: skip
    assert len(listed.stdout.splitlines()) == sent and "notification" in listed.stdout
    retry = subprocess.run(
        [str(exe), "--config", str(demo / "inboxcrm.toml"), "outbox", "retry", "no-such-key"],
        capture_output=True, text=True, env=env, timeout=60, check=False,
    )  # fmt: skip
    assert retry.returncode == 1 and "no failed mail with key 'no-such-key'" in retry.stderr

    # a rule change tried against the mail just stored: only the invoice's assignee would change
    branch = tmp_path / "branch-rules"
    subprocess.run(["cp", "-r", str(ROOT / "rules"), str(branch)], check=True)
    routing = branch / "10-routing.toml"
    routing.write_text(routing.read_text().replace('assign = "ben" }', 'assign = "ana" }', 1))
    done = subprocess.run(
        [str(exe), "--config", str(demo / "inboxcrm.toml"), "rules", "backtest", "--since", "3650d",
         "--rules", str(branch)],
        capture_output=True, text=True, env=env, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "'Invoice 1042 - wrong VAT ID'\n    assignee: ben → ana" in done.stdout
    assert done.stdout.strip().endswith("would differ (assignee 1)")


def test_parse_prints_one_json_line_per_file_in_order(tmp_path: Path, corpora: Path) -> None:
    team = tmp_path / "team.toml"
    team.write_text('[team]\ndomains = ["northwind.example"]\n')
    forward = tmp_path / "forward.eml"
    forward.write_bytes(
        b"From: Ana Lima <ana@northwind.example>\r\nTo: support@northwind.example\r\nSubject: Fwd: Broken\r\n"
        b"Message-ID: <f@northwind.example>\r\nDate: Mon, 02 Nov 2026 10:00:00 +0000\r\n\r\n"
        b"Please handle.\r\n\r\n---------- Forwarded message ---------\r\n"
        b"From: Priya Raman <priya@globex.example>\r\nSubject: Broken\r\n\r\nIt broke.\r\n"
    )
    junk = tmp_path / "junk.eml"
    junk.write_bytes(b"\x00\x01\x02")
    bounce = corpora / "sisimai-set-of-emails" / "maildir" / "bsd" / "lhost-postfix-01.eml"
    code, out, _ = invoke(str(team), "parse", "--json", str(forward), str(junk), str(bounce), str(tmp_path / "missing"))
    assert code == 0
    lines = [json.loads(line) for line in out.splitlines()]
    assert [line["file"] for line in lines] == [str(forward), str(junk), str(bounce), str(tmp_path / "missing")]
    first = lines[0]
    expected_keys = {
        "from",
        "original_from",
        "forwarded_by",
        "to",
        "cc",
        "subject",
        "date",
        "message_id",
        "in_reply_to",
        "references",
        "kind",
        "bounce",
        "new_text",
        "quoted_text",
        "signature",
        "attachments",
        "defects",
        "file",
    }
    assert expected_keys <= set(first)
    assert first["from"] == {"name": "Ana Lima", "email": "ana@northwind.example"}
    assert first["original_from"] == {"name": "Priya Raman", "email": "priya@globex.example"}
    assert first["forwarded_by"]["email"] == "ana@northwind.example"
    assert (first["kind"], first["date"], first["new_text"]) == (
        "normal",
        "2026-11-02T10:00:00+00:00",
        "Please handle.",
    )
    assert lines[1]["defects"] and lines[1]["from"] is None
    assert lines[2]["kind"] == "bounce" and lines[2]["bounce"]["recipients"][0]["hard"] in (True, False)
    assert "cannot read the file" in lines[3]["defects"][0]
    # without --json: the same, for a person
    code, out, _ = invoke(str(team), "parse", str(forward))
    assert "original:  Priya Raman <priya@globex.example> (forwarded by Ana Lima <ana@northwind.example>" in out


def test_check_and_run_refuse_bad_rules_with_file_and_line(tmp_path: Path) -> None:
    config = config_file(tmp_path, f"sqlite:///{tmp_path / 'x.db'}")
    (tmp_path / "rules").mkdir()
    bad = tmp_path / "rules" / "10-routing.toml"
    bad.write_text('[[rule]]\nname = "Billing"\nwhen.subjct.contains = "invoice"\nthen.queue = "billing"\n')
    code, _, err = invoke(config, "check")
    assert code == 2
    assert f"{bad}:3: unknown condition 'subjct' (did you mean 'subject'?)" in err
    assert "unknown queue 'billing'" in err  # every problem at once
    code, _, err = invoke(config, "run", "--once")
    assert code == 2 and "unknown condition 'subjct'" in err


def test_rules_explain_takes_the_mailbox_from_the_message_when_not_named(tmp_path: Path) -> None:
    demo = ROOT / "demo"
    pricing = next(p for p in (demo / "maildir" / "sales" / "new").iterdir() if b"Volume pricing" in p.read_bytes())
    code, out, err = invoke(str(demo / "inboxcrm.toml"), "rules", "explain", str(pricing))
    assert code == 0, err
    assert "(on mailbox sales, from its Delivered-To)" in out
    assert "✓ Sales mail goes to Ben" in out and "Support mail goes to the support queue" not in out
    # no delivery header: the To line names the shared address (a plus address counts)
    bare = tmp_path / "bare.eml"
    bare.write_bytes(mail(to="Northwind Sales <sales+quotes@northwind.example>", subject="Quote please"))
    code, out, err = invoke(str(demo / "inboxcrm.toml"), "rules", "explain", str(bare))
    assert code == 0 and "(on mailbox sales, from its To)" in out, err
    # --mailbox still wins
    code, out, _ = invoke(str(demo / "inboxcrm.toml"), "rules", "explain", str(pricing), "--mailbox", "support")
    assert "(on mailbox support)" in out


def test_rules_explain_shows_matches_reasons_and_effects() -> None:
    demo = ROOT / "demo"
    invoice = next(p for p in (demo / "maildir" / "support" / "new").iterdir() if b"Invoice 1042" in p.read_bytes())
    code, out, err = invoke(str(demo / "inboxcrm.toml"), "rules", "explain", str(invoice), "--mailbox", "support")
    assert code == 0, err
    assert "✓ Invoices, refunds and VAT go to billing" in out
    assert "because subject contains the word 'invoice' and 'vat'" in out
    assert "queue: billing" in out and "assignee: ben" in out
