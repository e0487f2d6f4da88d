"""The support desk's part of a test config, written once: agents, the reply secret and the outbox, and
the SLA targets most desk tests work to (`SLA`).

make_settings(tmp_path, url, desk_config(ANA, BEN, secret="s") + SLA + OTHER_TABLES)
"""

from __future__ import annotations

from dataclasses import dataclass

from tests.support.dovecot import Dovecot
from tests.support.smtpd import SmtpServer


@dataclass(frozen=True)
class TeamAgent:
    """One `[[agents]]` table."""

    name: str
    addresses: tuple[str, ...]
    queues: tuple[str, ...] = ("support",)
    display_name: str = ""

    def toml(self) -> str:
        lines = ["[[agents]]", f'name = "{self.name}"']
        if self.display_name:
            lines.append(f'display_name = "{self.display_name}"')
        lines.append("addresses = [" + ", ".join(f'"{a}"' for a in self.addresses) + "]")
        lines.append("queues = [" + ", ".join(f'"{q}"' for q in self.queues) + "]")
        return "\n".join(lines) + "\n"

    def but(self, **changes: object) -> TeamAgent:
        """This agent with some fields changed (another display name, more addresses or queues)."""
        fields = {"name": self.name, "addresses": self.addresses, "queues": self.queues}
        fields["display_name"] = self.display_name
        fields.update(changes)
        return TeamAgent(**fields)  # type: ignore[arg-type]


ANA = TeamAgent("ana", ("ana@northwind.example",))
BEN = TeamAgent("ben", ("ben@northwind.example",))
SLA = """
[sla]
timezone = "UTC"

[sla.targets]
normal = { first_response = "4h", resolution = "2d" }
high = { first_response = "1h", resolution = "8h" }
"""


def file_outbox(path: str = "outbox") -> str:
    """Outgoing mail as .eml files in `path` (relative to the config file)."""
    return f'[outbox]\ntransport = "file"\npath = "{path}"\n'


def smtp_outbox(server: SmtpServer, **settings: str) -> str:
    """Outgoing mail over plain SMTP to a test server; `settings` are more `[outbox]` keys (durations)."""
    lines = ["[outbox]", 'transport = "smtp"', f'host = "{server.host}"', f"port = {server.port}", 'security = "none"']
    lines += [f'{key} = "{value}"' for key, value in settings.items()]
    return "\n".join(lines) + "\n"


def desk_config(
    *agents: TeamAgent,
    secret: str | None = None,
    outbox: str | None = None,
    agent_mail: str | None = None,
    trusted_authserv_id: str | None = None,
) -> str:
    """`[[agents]]` tables, `[security] secret` and an outbox (a folder by default when a secret is given);
    `agent_mail` (and `trusted_authserv_id`) say what authenticates agents' mail (default: relay-only)."""
    parts = [agent.toml() for agent in agents]
    security = [f'secret = "{secret}"'] if secret is not None else []
    security += [f'agent_mail = "{agent_mail}"'] if agent_mail else []
    security += [f'trusted_authserv_id = "{trusted_authserv_id}"'] if trusted_authserv_id else []
    if security:
        parts.append("[security]\n" + "\n".join(security) + "\n")
    if secret is not None:
        parts.append(outbox if outbox is not None else file_outbox())
    elif outbox is not None:
        parts.append(outbox)
    return "\n" + "\n".join(parts)


def support_mailbox(dovecot: Dovecot, folder: str, password_env: str, *extra: str) -> str:
    """The shared support@ mailbox on a test Dovecot folder (`[[mailboxes]]`, plain IMAP on loopback), as
    "Northwind Support"; `extra` are more of its lines (`acknowledge = "support/ack"`, `timeout = "10s"` …)."""
    lines = [
        "[[mailboxes]]",
        'name = "support"',
        'kind = "support"',
        'addresses = ["support@northwind.example"]',
        'from_name = "Northwind Support"',
        'source = "imap"',
        f'host = "{dovecot.host}"',
        f"port = {dovecot.port}",
        'security = "none"',
        f'user = "{dovecot.user}"',
        f'password_env = "{password_env}"',
        f'folders = ["{folder}"]',
        *extra,
    ]
    return "\n".join(lines) + "\n"
