"""The team's rules, as files in `rules/`: compiled against what the config names, and explained."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from inboxcrm.core.addresses import company_domain
from inboxcrm.core.model import MailboxProfile, Team
from inboxcrm.core.reading import Reading
from inboxcrm.core.rules import ContactFacts, Decision, Facts, RuleSet, Vocabulary, compile_rules, evaluate
from inboxcrm.core.understanding import understand

RuleFiles = Callable[[], Sequence[tuple[str, str]]]


class RuleBook:
    """Compiles the rule files `load` returns; `compile` raises `RulesInvalid` with every problem."""

    def __init__(self, load: RuleFiles, vocabulary: Vocabulary, team: Team, timezone: str) -> None:
        self._load = load
        self._vocabulary = vocabulary
        self._team = team
        self._timezone = timezone

    def compile(self) -> RuleSet:
        return compile_rules(self._load(), self._vocabulary)

    def decide(self, rules: RuleSet, reading: Reading, mailbox: MailboxProfile, now: datetime) -> Decision:
        """What `rules` decide for one read message arriving on `mailbox` (no side effects)."""
        message = reading.message
        if message is None:
            return Decision(problems=(reading.problem or "not readable as mail",))
        meaning = understand(message, mailbox, self._team, now, reading.analysis)
        contact = None
        if meaning.contact is not None:
            contact = ContactFacts(meaning.contact.email, company_domain=company_domain(meaning.contact.email))
        analysis = reading.analysis
        facts = Facts(
            message=message,
            kind=analysis.kind.value if analysis else "normal",
            mailbox=mailbox.name,
            mailbox_kind=mailbox.kind.value,
            contact=contact,
            now=meaning.sent_at,  # weekday/time rules are about when the mail was written
            timezone=self._timezone,
            new_text=analysis.segments.new_text if analysis else None,
            direction=meaning.direction.value,
        )
        return evaluate(rules, facts)
