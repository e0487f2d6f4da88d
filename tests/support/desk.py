"""The support desk's part of a test config, written once: agents, the reply secret and the outbox.

make_settings(tmp_path, url, desk_config(ANA, BEN, secret="s") + OTHER_TABLES)
"""

from __future__ import annotations

from dataclasses import dataclass

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


def file_outbox(path: str = "outbox") -> str:
    """Outgoing mail as .eml files in `path` (relative to the config file)."""
    return f'[outbox]\ntransport = "file"\npath = "{path}"\n'


def smtp_outbox(server: SmtpServer, **settings: str) -> str:
    """Outgoing mail over plain SMTP to a test server; `settings` are more `[outbox]` keys (durations)."""
    lines = ["[outbox]", 'transport = "smtp"', f'host = "{server.host}"', f"port = {server.port}", 'security = "none"']
    lines += [f'{key} = "{value}"' for key, value in settings.items()]
    return "\n".join(lines) + "\n"


def desk_config(*agents: TeamAgent, secret: str | None = None, outbox: str | None = None) -> str:
    """`[[agents]]` tables, `[security] secret` and an outbox (a folder by default when a secret is given)."""
    parts = [agent.toml() for agent in agents]
    if secret is not None:
        parts.append(f'[security]\nsecret = "{secret}"\n')
        parts.append(outbox if outbox is not None else file_outbox())
    elif outbox is not None:
        parts.append(outbox)
    return "\n" + "\n".join(parts)
