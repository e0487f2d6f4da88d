"""The shipped example rules (rules/*.toml) on realistic messages and on the demo Maildir, and the complete
rules in rules/README.md compile."""

from __future__ import annotations

from typing import Any

import pytest

from inboxcrm.core.addresses import company_domain
from inboxcrm.core.model import MailboxKind, MailboxProfile, Team
from inboxcrm.core.reading import read_raw
from inboxcrm.core.rules import ContactFacts, Deal, Decision, Facts, RuleSet, compile_rules, evaluate, explain
from inboxcrm.core.understanding import understand
from tests.core.rules_support import NOW, ROOT, TEAM_VOCABULARY, facts


def shipped_rules() -> RuleSet:
    files = [(str(p.relative_to(ROOT)), p.read_text(encoding="utf-8")) for p in sorted((ROOT / "rules").glob("*.toml"))]
    return compile_rules(files, TEAM_VOCABULARY)


def test_the_shipped_rules_compile_with_the_team_vocabulary() -> None:
    rules = shipped_rules()
    assert rules.files == ("rules/10-routing.toml", "rules/20-tags.toml", "rules/30-scoring.toml")
    assert len(rules.rules) >= 20


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        (
            {"subject": "Refund for invoice 5521", "body": "Hello, please refund the double charge.\n"},
            {"queue": "billing", "assignee": "ben", "open_ticket": True, "auto_replies": ()},
        ),
        (
            {"subject": "Question about pricing", "mailbox": "sales", "mailbox_kind": "sales"},
            {"queue": "sales", "auto_replies": ("sales/pricing",)},
        ),
        (
            {"subject": "URGENT: line down", "contact": ContactFacts("carol@acme-corp.example", stage="customer")},
            {"priority": "high", "stage": "customer", "queue": "support"},
        ),
        (
            {"subject": "Demo please", "mailbox": "sales", "mailbox_kind": "sales", "to": "sales@northwind.example"},
            {"queue": "sales", "stage": "sql", "score": 35.0, "deals": (Deal("ToolTrack demo", None, "demo"),)},
        ),
        (
            {"subject": "Free trial?", "mailbox": "sales", "from_": "laura@gmail.com", "contact": None},
            {"enrol": ("trial-nurture",), "stage": "lead", "tags_added": frozenset({"free-mail"})},
        ),
        (
            {"subject": "Out of office", "kind": "auto_reply", "mailbox": "sales"},
            {"open_ticket": False, "score_changes": (), "queue": None},
        ),
        (
            {"subject": "Re: printer", "direction": "out", "from_": "ana@northwind.example"},
            {"matches": 1, "queue": None, "open_ticket": None},
        ),
        (
            {"subject": "Affordable SEO services for northwind", "from_": "spam@seo.example"},
            {"ignore": True, "open_ticket": False},
        ),
    ],
)
def test_shipped_rules_on_realistic_messages(given: dict[str, Any], expected: dict[str, Any]) -> None:
    decision = evaluate(shipped_rules(), facts(**given))
    for name, value in expected.items():
        actual = len(decision.matches) if name == "matches" else getattr(decision, name)
        assert actual == value, (name, explain(decision))


def demo_decisions() -> dict[str, Decision]:
    """Each message of the demo Maildir through the shipped rules, as ingest would: read, understand, decide."""
    rules = shipped_rules()
    team = Team(frozenset({"ana@northwind.example", "ben@northwind.example"}), frozenset({"northwind.example"}))
    decisions: dict[str, Decision] = {}
    for box in ("support", "sales"):
        profile = MailboxProfile(box, MailboxKind(box), frozenset({f"{box}@northwind.example"}))
        for path in sorted((ROOT / "demo" / "maildir" / box / "new").iterdir()):
            reading = read_raw(path.read_bytes())
            assert reading.message is not None and reading.analysis is not None
            message, analysis = reading.message, reading.analysis
            meaning = understand(message, profile, team, message.date or NOW, analysis)
            contact = None
            if meaning.contact is not None:
                contact = ContactFacts(meaning.contact.email, company_domain=company_domain(meaning.contact.email))
            decisions[f"{box}: {message.subject}"] = evaluate(
                rules,
                Facts(
                    message,
                    analysis.kind,
                    box,
                    profile.kind,
                    contact,
                    meaning.sent_at,
                    "Europe/Berlin",
                    analysis.body.new_text,
                    meaning.direction,
                ),
            )
    return decisions


def test_shipped_rules_on_the_demo_maildir() -> None:
    decisions = demo_decisions()
    invoice = decisions["support: Invoice 1042 - wrong VAT ID"]
    assert (invoice.queue, invoice.assignee, invoice.open_ticket) == ("billing", "ben", True)
    assert invoice.auto_replies == ()  # support tickets are acknowledged by the mailbox's template, not a rule
    assert "subject contains the word 'invoice' and 'vat'" in invoice.matches[1].because

    german = decisions["support: Rückfrage zur Garantie – Akkuschrauber NW-D18"]
    assert german.assignee == "ana" and "free-mail" in german.tags_added

    demo = decisions["sales: Demo request: NW ToolTrack for our maintenance crew"]
    assert demo.stage == "sql" and "demo-request" in demo.tags_added and demo.score == 35

    quote = decisions["sales: Quote request: 25 workshop tool sets (NW-WS100)"]
    assert quote.stage == "mql" and Deal("Volume order", None, "qualified") in quote.deals

    out_of_office = decisions["sales: Out of Office: Re: Quote request: 25 workshop tool sets (NW-WS100)"]
    assert out_of_office.open_ticket is False and out_of_office.score == 0
    bounce = decisions["sales: Undelivered Mail Returned to Sender"]
    assert bounce.open_ticket is False and [m.rule for m in bounce.matches] == ["Automatic mail never opens a ticket"]

    replies = [d for key, d in decisions.items() if key.startswith("support: Re: Order #58213")]
    assert [m.rule for m in replies[0].matches] == ["Our own replies are not routed or scored"]
    assert all(not d.problems for d in decisions.values())


def test_the_complete_rules_in_the_readme_compile() -> None:
    readme = (ROOT / "rules" / "README.md").read_text(encoding="utf-8")
    blocks = [b.split("```", 1)[0] for b in readme.split("```toml\n")[1:]]
    complete = [b for b in blocks if b.startswith("[[rule]]")]
    assert len(complete) >= 2
    for index, block in enumerate(complete):
        assert compile_rules([(f"README-{index}.toml", block)], TEAM_VOCABULARY).rules
