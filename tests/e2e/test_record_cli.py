"""The customer record from the command line: search, contacts import/export as CSV, webhooks list."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import make_settings
from tests.e2e.test_cli import invoke
from tests.support.mail import mail

FIELDS = """
[[fields]]
name = "plan"
type = "choice"
choices = ["free", "pro"]

[[webhooks]]
name = "shop"
url = "http://127.0.0.1:9/hooks"
events = ["contact.created"]
secret = "s"
"""


def test_search_import_export_and_webhooks_from_the_command_line(tmp_path: Path, database_url: str) -> None:
    make_settings(tmp_path, database_url, FIELDS)
    config = str(tmp_path / "inboxcrm.toml")
    if database_url.startswith("postgresql"):
        assert invoke(config, "db", "upgrade")[0] == 0
    (tmp_path / "mail.eml").write_bytes(mail(subject="Invoices overdue", message_id="cli-1@acme.example"))
    assert invoke(config, "import", str(tmp_path / "mail.eml"), "--mailbox", "support")[0] == 0
    code, out, _ = invoke(config, "webhooks", "list")
    assert code == 0 and "shop → http://127.0.0.1:9/hooks: no deliveries" in out  # imported mail is history

    code, out, _ = invoke(config, "search", "invoice", "from:carol")
    assert code == 0 and "Invoices overdue" in out and out.strip().endswith("1 message(s)")
    code, _, err = invoke(config, "search", "frm:carol")
    assert code == 1 and "did you mean from:" in err

    bad = tmp_path / "bad.csv"
    bad.write_text("email,plan\ncarol@acme-corp.example,gold\nnobody,free\n")
    code, _, err = invoke(config, "contacts", "import", str(bad), "--apply")
    assert code == 2
    assert f"error: {bad}:2:2: plan: expected one of free, pro, got 'gold'" in err
    assert f"error: {bad}:3:1: email: not an email address: 'nobody'" in err

    good = tmp_path / "good.csv"
    good.write_text("E-Mail,plan,tags\ncarol@acme-corp.example,pro,vip\ndave@globex.example,free,\n")
    code, out, _ = invoke(config, "contacts", "import", str(good), "--map", "E-Mail=email")
    assert code == 0 and "dry run" in out and "1 new, 1 changed" in out
    code, out, _ = invoke(config, "contacts", "import", str(good), "--map", "E-Mail=email", "--apply")
    assert code == 0 and "imported: 1 new, 1 changed, 0 unchanged" in out
    code, out, _ = invoke(config, "contacts", "export", "--csv", "-")
    assert code == 0
    header, row = out.splitlines()[:2]
    assert header.endswith(",plan") and row.startswith("1,carol@acme-corp.example,")
    assert ",vip," in row and row.endswith(",pro")
    exported = tmp_path / "all.csv"
    invoke(config, "contacts", "export", "--csv", str(exported))
    code, out, _ = invoke(config, "contacts", "import", str(exported), "--apply")
    assert code == 0 and "0 new, 0 changed, 2 unchanged" in out

    code, out, _ = invoke(config, "webhooks", "list")
    assert code == 0 and "shop → http://127.0.0.1:9/hooks: queued 1" in out and "contact.created" in out  # Dave
