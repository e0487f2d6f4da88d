"""`inboxcrm auth NAME`: sign a mailbox (or the outbox, NAME = "outbox") in to Microsoft 365, Google or
another OAuth2 provider once, and store what the daemon needs to get access tokens from then on.

Made by a function that takes the CLI's settings loader, so this module does not depend on `cli.py`
(which adds the command). For app-only sign-in (Microsoft client credentials, a Google service account)
nothing needs storing: the command only checks that a token can be had and that the server takes it.
"""

from __future__ import annotations

import os
from collections.abc import Callable

import click

from inboxcrm import bootstrap, providers
from inboxcrm.adapters import token_store
from inboxcrm.adapters.imap import ImapSource
from inboxcrm.adapters.oauth2 import TokenUnavailable
from inboxcrm.cli.app import settings_of
from inboxcrm.config import Settings
from inboxcrm.config.providers import OAuth2Settings
from inboxcrm.core.alerts import LoginRefused

SettingsLoader = Callable[[click.Context], Settings]


def _target(settings: Settings, name: str) -> tuple[OAuth2Settings, str | None, bool]:
    """(its oauth2 table, the user it logs in as, whether it is the outbox)."""
    if name == "outbox" and name not in {m.name for m in settings.mailboxes}:
        if settings.outbox.auth != "oauth2" or settings.outbox.oauth2 is None:
            raise click.ClickException('the outbox does not sign in with OAuth2 (set auth = "oauth2" in [outbox])')
        return settings.outbox.oauth2, settings.outbox.user, True
    try:
        mailbox = settings.mailbox(name)
    except KeyError:
        names = ", ".join([m.name for m in settings.mailboxes] + ["outbox"])
        raise click.ClickException(f"no mailbox named {name!r} (there are: {names})") from None
    if mailbox.auth != "oauth2" or mailbox.oauth2 is None:
        raise click.ClickException(
            f'mailbox {name} does not sign in with OAuth2 (set auth = "oauth2" and [mailboxes.oauth2])'
        )
    return mailbox.oauth2, mailbox.user, False


def _secret(oauth2: OAuth2Settings, settings: Settings) -> str | None:
    return providers.token_request(oauth2, "", None, settings, os.environ).client_secret


def browser_step(url: str) -> str:
    """The person's part of the browser sign-in: open `url`, sign in, paste the address the browser ends on."""
    click.echo(f"Open this address in a browser and sign in:\n\n{url}\n")
    click.echo("The browser then fails to load a page at 127.0.0.1: that is expected.")
    return str(click.prompt("Paste the whole address from the browser's address bar"))


def auth_command(load: SettingsLoader) -> click.Command:
    """The `auth NAME [--check/--no-check]` command."""

    @click.command(name="auth")
    @click.argument("name")
    @click.option("--check/--no-check", default=True, help="Log in to the mailbox afterwards to see that it works.")
    @click.pass_context
    def command(ctx: click.Context, name: str, check: bool) -> None:
        """Sign mailbox NAME (or "outbox") in with OAuth2 once: a device code to enter in any browser
        (Microsoft, or a provider with a device endpoint) or a sign-in address to open (Google). The refresh
        token is stored in the mailbox's token_file (default var/tokens/NAME.json), readable by this user
        only; the daemon refreshes access tokens from it by itself."""
        settings = load(ctx)
        oauth2, user, is_outbox = _target(settings, name)
        flow = oauth2.chosen_flow
        try:
            if flow == "refresh_token" and oauth2.refresh_token_env:
                click.echo(f"{name}: the refresh token comes from ${oauth2.refresh_token_env}; nothing to store.")
            elif flow == "refresh_token":
                _sign_in(oauth2, name, user, settings, is_outbox)
            else:
                click.echo(f"{name}: {flow.replace('_', ' ')} sign-in needs no person; checking that it works.")
            tokens = providers.access_tokens(oauth2, name, user, settings, os.environ, smtp=is_outbox)
            assert tokens is not None
            tokens.token()
            click.echo(f"{name}: an access token was issued.")
            if check and not is_outbox:
                mailbox = settings.mailbox(name)
                with ImapSource(bootstrap.imap_account(mailbox, os.environ, settings)):
                    click.echo(f"{name}: IMAP login as {user} at {mailbox.host} works.")
        except (LoginRefused, TokenUnavailable, OSError) as exc:
            raise click.ClickException(f"{name}: {exc}") from None

    return command


def _sign_in(oauth2: OAuth2Settings, name: str, user: str | None, settings: Settings, is_outbox: bool) -> None:
    assert oauth2.client_id is not None  # guaranteed by config validation
    token_url = oauth2.endpoint("token")
    assert token_url is not None
    scopes = oauth2.scope_list(smtp=is_outbox)
    device_url = oauth2.endpoint("device")
    secret = _secret(oauth2, settings)
    click.echo(f"Sign in as {user or 'the mailbox user'} (an account that may open the mailbox).")
    # imported here: every other command starts without authlib's sign-in flows
    from inboxcrm.adapters.oauth2_signin import browser_sign_in, device_sign_in

    if device_url:
        answer = device_sign_in(device_url, token_url, oauth2.client_id, secret, scopes, click.echo)
    else:
        authorization_url = oauth2.endpoint("authorization")
        if not authorization_url:
            raise click.ClickException(f"{name}: give device_url or authorization_url in its oauth2 table")

        answer = browser_sign_in(authorization_url, token_url, oauth2.client_id, secret, scopes, browser_step)
    refresh = answer.get("refresh_token")
    if not refresh:
        raise click.ClickException(f"{name}: the provider gave no refresh token (ask for the offline_access scope)")
    path = providers.token_file(oauth2, name, settings)
    token_store.save(path, str(refresh), provider=oauth2.provider, client_id=oauth2.client_id or "", user=user or "")
    click.echo(f"{name}: stored at {path} (mode 0600: only this user can read it).")


auth = auth_command(lambda ctx: settings_of(ctx, check_environment=False))
