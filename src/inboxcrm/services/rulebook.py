"""The team's rules, as files in `rules/`: compiled against what the config names, and explained."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from datetime import datetime

from inboxcrm.core.addresses import company_domain
from inboxcrm.core.model import MailboxProfile, Team
from inboxcrm.core.reading import Reading
from inboxcrm.core.rules import (
    ContactFacts,
    Decision,
    Facts,
    RuleProblem,
    RuleSet,
    RulesInvalid,
    Vocabulary,
    compile_rules,
    evaluate,
)
from inboxcrm.core.understanding import understand
from inboxcrm.services.routing import Routing

log = logging.getLogger(__name__)

RuleFiles = Callable[[], Sequence[tuple[str, str]]]


class RuleBook:
    """Compiles the rule files `load` returns; `compile` raises `RulesInvalid` with every problem."""

    def __init__(self, load: RuleFiles, vocabulary: Vocabulary, team: Team, timezone: str) -> None:
        self._load = load
        self._vocabulary = vocabulary
        self._team = team
        self._timezone = timezone

    def files(self) -> Sequence[tuple[str, str]]:
        return self._load()

    def compile(self, files: Sequence[tuple[str, str]] | None = None) -> RuleSet:
        return compile_rules(self._load() if files is None else files, self._vocabulary)

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
            new_text=analysis.body.new_text if analysis else None,
            direction=meaning.direction.value,
        )
        return evaluate(rules, facts)


class LiveRules:
    """The rule set the daemon applies, reloaded when the files change (checked at most every
    `check_every` seconds). A bad edit never half-loads: the last good set stays, and the problems are
    logged once per edit."""

    def __init__(
        self,
        book: RuleBook,
        routing: Callable[[RuleSet], Routing],
        check_every: float = 2.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._book = book
        self._routing_of = routing
        self._check_every = check_every
        self._clock = clock
        self._checked_at: float | None = None
        self._fingerprint: int | None = None
        self._current: Routing | None = None
        self.problems: tuple[RuleProblem, ...] = ()

    def current(self) -> Routing | None:
        now = self._clock()
        if self._checked_at is not None and now - self._checked_at < self._check_every:
            return self._current
        self._checked_at = now
        files = tuple(self._book.files())
        fingerprint = hash(files)
        if fingerprint == self._fingerprint:
            return self._current
        self._fingerprint = fingerprint
        try:
            rules = self._book.compile(files)
        except RulesInvalid as exc:
            self.problems = exc.problems
            for problem in exc.problems:
                log.error("rules: %s", problem)
            log.error("rules: %d problem(s); keeping the last good rule set", len(exc.problems))
            return self._current
        self.problems = ()
        first = self._current is None
        self._current = self._routing_of(rules) if rules.rules else None
        log.info(
            "rules %s: %d rule(s) from %d file(s)",
            "loaded" if first else "reloaded",
            len(rules.rules),
            len(rules.files),
        )
        return self._current
