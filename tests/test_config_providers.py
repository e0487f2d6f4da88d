"""`inboxcrm check` knows the OAuth2, cluster and alert keys: wrong ones are reported with file:line."""

from __future__ import annotations

from pathlib import Path

import pytest

from inboxcrm.config import ConfigError, parse_settings

BOX = """
[[mailboxes]]
name = "support"
addresses = ["support@northwind.example"]
host = "outlook.office365.com"
user = "support@northwind.example"
auth = "oauth2"
"""


def problems(tmp_path: Path, text: str, environ: dict[str, str] | None = None) -> list[str]:
    file = tmp_path / "inboxcrm.toml"
    file.write_text(text)
    with pytest.raises(ConfigError) as caught:
        parse_settings(text, str(file), environ or {})
    return [str(p).removeprefix(f"{file}:") for p in caught.value.problems]


def test_a_complete_microsoft_app_only_mailbox_is_accepted(tmp_path: Path) -> None:
    text = BOX + '[mailboxes.oauth2]\nprovider = "microsoft"\ntenant = "northwind.example"\nclient_id = "x"\n'
    text += (
        'client_secret_env = "M365_SECRET"\n\n[cluster]\ntakeover = "45s"\n\n[alerts]\nto = ["ops@northwind.example"]\n'
    )
    settings = parse_settings(text, str(tmp_path / "c.toml"), {"M365_SECRET": "s"})
    oauth2 = settings.mailboxes[0].oauth2
    assert oauth2 is not None and oauth2.chosen_flow == "client_credentials"
    assert oauth2.endpoint("token") == "https://login.microsoftonline.com/northwind.example/oauth2/v2.0/token"
    assert oauth2.scope_list() == ("https://outlook.office365.com/.default",)
    assert settings.cluster.takeover == 45 and settings.alerts.alert_after == 900


def test_oauth2_without_its_table_or_with_a_typo_is_reported_with_its_line(tmp_path: Path) -> None:
    assert problems(tmp_path, BOX) == ["2: mailboxes[0]: an imap mailbox needs oauth2"]
    typo = BOX + '[mailboxes.oauth2]\nprovider = "microsoft"\ntennant = "x"\n'
    found = problems(tmp_path, typo)
    assert any(p.startswith("10: mailboxes[0].oauth2.tennant: unknown key") for p in found), found


def test_missing_secrets_are_named(tmp_path: Path) -> None:
    text = BOX + '[mailboxes.oauth2]\nprovider = "microsoft"\nflow = "refresh_token"\ntenant = "t"\nclient_id = "x"\n'
    text += 'client_secret_env = "M365_SECRET"\n'
    found = problems(tmp_path, text)
    assert any("mailboxes[0].oauth2.client_secret_env: environment variable M365_SECRET is not set" in p for p in found)
    assert any("run `inboxcrm auth support` once" in p for p in found), found


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ('provider = "google"\nflow = "client_credentials"\nclient_id = "x"\n', 'use flow = "service_account"'),
        ('provider = "google"\n', "needs service_account_file"),
        ('provider = "generic"\nclient_id = "x"\n', "needs token_url"),
        ('provider = "microsoft"\nclient_id = "x"\nclient_secret_env = "S"\n', "needs tenant"),
    ],
)
def test_incomplete_providers_say_what_is_missing(tmp_path: Path, table: str, message: str) -> None:
    found = problems(tmp_path, BOX + "[mailboxes.oauth2]\n" + table)
    assert any(message in p for p in found), found


def test_takeover_and_alert_addresses_are_checked(tmp_path: Path) -> None:
    found = problems(tmp_path, '[cluster]\ntakeover = "1s"\n\n[alerts]\nto = ["nobody"]\n')
    assert any("cluster.takeover" in p for p in found), found
    assert any("5: alerts.to: not an email address: nobody" in p for p in found), found
