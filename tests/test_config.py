"""`inboxcrm check`'s messages: every problem, with file:line and what was expected."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from inboxcrm.config import ConfigError, load_settings, parse_duration, parse_settings

ROOT = Path(__file__).resolve().parent.parent

GOOD = """
[api]
tokens = [{ name = "ops", value_env = "TOKEN" }]

[[mailboxes]]
name = "support"
kind = "support"
addresses = ["Support@Example.com"]
host = "imap.example.com"
user = "support@example.com"
password_env = "PW"
poll_interval = "5m"
"""


def problems(text: str, environ: dict[str, str] | None = None) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        parse_settings(text, "inboxcrm.toml", environ if environ is not None else {"PW": "x", "TOKEN": "t"})
    return [str(p) for p in caught.value.problems]


def test_good_config_loads_with_defaults() -> None:
    settings = parse_settings(GOOD, "/etc/inboxcrm/inboxcrm.toml", {"PW": "x", "TOKEN": "t"})
    mailbox = settings.mailboxes[0]
    assert mailbox.addresses == ("support@example.com",)
    assert mailbox.poll_interval == 300
    assert mailbox.imap_port == 993
    assert mailbox.folders == ("INBOX",)
    assert settings.database_url() == "sqlite:////etc/inboxcrm/var/inboxcrm.db"
    assert settings.api_tokens({"TOKEN": "t"}) == {"t": "ops"}
    assert "support@example.com" in settings.team_profile().addresses


def test_unknown_key_names_file_line_and_key() -> None:
    text = GOOD.replace('poll_interval = "5m"', 'poll_interval = "5m"\nfolderz = ["INBOX"]')
    assert problems(text) == ["inboxcrm.toml:13: mailboxes[0].folderz: unknown key (did you mean 'folders'?)"]


def test_unknown_keys_get_did_you_mean_at_every_level() -> None:
    text = GOOD + '\n[databse]\nurl = "sqlite:///x.db"\n\n[sla]\ntargets = { high = { first_respons = "1h" } }\n'
    text += "\n[outbox]\nxyzzy = 1\n"
    assert problems(text) == [
        "inboxcrm.toml:21: outbox.xyzzy: unknown key (check the spelling against config.example.toml)",
        "inboxcrm.toml:18: sla.targets.high.first_respons: unknown key (did you mean 'first_response'?)",
        "inboxcrm.toml:14: databse: unknown key (did you mean 'database'?)",
    ]


def test_a_value_is_reported_once() -> None:
    assert problems(GOOD.replace('"5m"', '"4 days"')) == [
        'inboxcrm.toml:12: mailboxes[0].poll_interval: expected a duration such as 60, "30s", "5m" or "1h", '
        "got '4 days'"
    ]
    assert problems(GOOD + '\n[sla]\ntimezone = "Mars/Olympus"\n') == [
        "inboxcrm.toml:15: sla.timezone: unknown time zone 'Mars/Olympus' (use an IANA name such as Europe/Berlin)"
    ]
    # a value our validators do not name is still shown, once
    assert problems(GOOD.replace('kind = "support"', "kind = 7")) == [
        "inboxcrm.toml:7: mailboxes[0].kind: Input should be 'support', 'sales' or 'other' (got 7)"
    ]


def test_every_problem_is_reported_at_once() -> None:
    text = GOOD.replace('kind = "support"', 'kind = "helpdesk"').replace('"5m"', '"soon"')
    found = problems(text)
    assert len(found) == 2
    assert found[0].startswith("inboxcrm.toml:7: mailboxes[0].kind: Input should be 'support', 'sales' or 'other'")
    assert found[1].startswith("inboxcrm.toml:12: mailboxes[0].poll_interval: expected a duration")


def test_bad_toml_reports_the_line() -> None:
    assert problems('[database]\nurl = "sqlite:///x.db\n')[0].startswith("inboxcrm.toml:2: not valid TOML")


def test_missing_secret_in_environment() -> None:
    assert problems(GOOD, {"TOKEN": "t"}) == [
        "inboxcrm.toml:11: mailboxes[0].password_env: environment variable PW is not set"
    ]


def test_imap_mailbox_needs_its_connection_fields() -> None:
    text = GOOD.replace('host = "imap.example.com"\n', "")
    assert problems(text) == ["inboxcrm.toml:5: mailboxes[0]: an imap mailbox needs host"]


def test_duplicate_mailbox_names() -> None:
    twice = GOOD + GOOD.split("[[mailboxes]]")[1].join(["[[mailboxes]]", ""])
    assert any("repeated: support" in p for p in problems(twice))


def test_unreadable_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read the config file"):
        load_settings(tmp_path / "missing.toml")


def test_shipped_configs_are_valid(tmp_path: Path) -> None:
    for name in ("demo", "templates"):
        shutil.copytree(ROOT / name, tmp_path / name)
    shutil.copytree(ROOT / "demo" / "maildir", tmp_path / "var" / "demo" / "maildir")  # as ./scripts/demo does
    load_settings(tmp_path / "demo" / "inboxcrm.toml", environ={})
    env = {"INBOXCRM_API_TOKEN": "t", "INBOXCRM_SUPPORT_PASSWORD": "p", "INBOXCRM_SALES_PASSWORD": "p",
           "INBOXCRM_SECRET": "s", "INBOXCRM_SMTP_PASSWORD": "p"}  # fmt: skip
    settings = load_settings(ROOT / "config.example.toml", environ=env)
    assert [m.name for m in settings.mailboxes] == ["support", "sales"]


@pytest.mark.parametrize(
    ("value", "seconds"), [(30, 30.0), ("30s", 30.0), ("5m", 300.0), ("2h", 7200.0), ("1d", 86400.0), ("250ms", 0.25)]
)
def test_durations(value: object, seconds: float) -> None:
    assert parse_duration(value) == seconds


def test_ca_file_must_exist_and_needs_tls(tmp_path: Path) -> None:
    found = problems(GOOD.replace('poll_interval = "5m"', 'poll_interval = "5m"\nca_file = "missing.pem"'))
    assert len(found) == 1 and "mailboxes[0].ca_file: no CA certificate at" in found[0]
    plain = GOOD.replace('poll_interval = "5m"', 'poll_interval = "5m"\nsecurity = "none"\nca_file = "x.pem"')
    assert any('ca_file needs security = "tls" or "starttls"' in p for p in problems(plain))


def test_a_bad_backlog_is_reported_with_its_line(tmp_path: Path) -> None:
    text = (
        '[[mailboxes]]\nname = "support"\naddresses = ["support@x.example"]\nsource = "maildir"\n'
        f'path = "{tmp_path}"\nbacklog = "lots"\n'
    )
    with pytest.raises(ConfigError) as raised:
        parse_settings(text, "inboxcrm.toml", {})
    problem = str(raised.value)
    assert 'inboxcrm.toml:6: mailboxes[0].backlog: expected "all", "none" or a span such as "90d"' in problem
    assert "'lots'" in problem
