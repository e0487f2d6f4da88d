"""What the rule tests (tests/core/test_rules_*.py) share: the team's vocabulary, a contact, facts for a message
built by `mail(...)`, a one-rule file, a compiled rule set and the problems a file is refused with."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from inboxcrm.core.parsing import parse_message
from inboxcrm.core.rules import ContactFacts, Facts, RuleProblem, RuleSet, RulesInvalid, Vocabulary, compile_rules
from tests.support.mail import mail

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)  # a Monday
TEAM_VOCABULARY = Vocabulary(
    templates=frozenset({"ack-support", "sales/pricing", "support/ack"}),
    campaigns=frozenset({"trial-nurture"}),
    agents=frozenset({"ana", "ben"}),
    stages=("subscriber", "lead", "mql", "sql", "customer"),
    queues=frozenset({"support", "billing", "sales"}),
    deal_stages=("qualified", "demo", "proposal", "won", "lost"),
    mailboxes=frozenset({"support", "sales"}),
)
CAROL = ContactFacts("carol@acme-corp.example", frozenset({"vip", "beta"}), 42.0, "mql", "acme-corp.example")
MAIL_KEYS = ("from_", "to", "cc", "subject", "body", "headers", "date")


def with_attachments(*files: tuple[str, str], subject: str = "Invoice attached") -> bytes:
    """A multipart/mixed message with a text part and one small attachment per (filename, content type)."""
    lines = [
        "From: Carol Danvers <carol@acme-corp.example>",
        "To: support@northwind.example",
        f"Subject: {subject}",
        "Message-ID: <attachments@acme-corp.example>",
        "MIME-Version: 1.0",
        'Content-Type: multipart/mixed; boundary="B"',
        "",
        "--B",
        "Content-Type: text/plain; charset=utf-8",
        "",
        "Please see the attached files.",
    ]
    for filename, content_type in files:
        lines += [
            "--B",
            f"Content-Type: {content_type}",
            f'Content-Disposition: attachment; filename="{filename}"',
            "Content-Transfer-Encoding: base64",
            "",
            "aGVsbG8=",
        ]
    lines.append("--B--")
    return "\r\n".join(lines).encode()


def facts(raw: bytes | None = None, **given: Any) -> Facts:
    """Facts for a message built by `mail(...)` from the mail keywords in `given`; the rest go to Facts."""
    mail_args = {k: given.pop(k) for k in MAIL_KEYS if k in given}
    message = parse_message(raw if raw is not None else mail(**mail_args))
    given.setdefault("contact", CAROL)
    return Facts(
        message=message,
        kind=given.pop("kind", "normal"),
        mailbox=given.pop("mailbox", "support"),
        mailbox_kind=given.pop("mailbox_kind", "support"),
        now=given.pop("now", NOW),
        **given,
    )


def rule(when: str, then: str = 'then.add_tags = "hit"', name: str = "r") -> str:
    return f'[[rule]]\nname = "{name}"\n{when}\n{then}\n'


def compiled(*texts: str, vocabulary: Vocabulary = TEAM_VOCABULARY) -> RuleSet:
    return compile_rules([(f"rules/{i:02d}.toml", text) for i, text in enumerate(texts)], vocabulary)


def problems_of(text: str, file: str = "rules/x.toml", vocabulary: Vocabulary = TEAM_VOCABULARY) -> list[RuleProblem]:
    with pytest.raises(RulesInvalid) as caught:
        compile_rules([(file, text)], vocabulary)
    return list(caught.value.problems)
