"""Rules totality: evaluation never raises, whatever the message, contact, time or timezone; the generated plan
and the rule-by-rule path agree."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from inboxcrm.core.model import Address, Attachment, Message
from inboxcrm.core.parsing import parse_message
from inboxcrm.core.rules import ContactFacts, Facts, compile_rules, evaluate
from tests.core.rules_support import ROOT, TEAM_VOCABULARY, rule

EVERYTHING = rule(
    """when.any = [
  { from = ["*@*", "x.example"], to.domain = "*.example", cc = "a@b.example", recipients = "z.example" },
  { subject = { contains = "a", contains_all = ["b", "c"], contains_word = "d", regex = '(?m)^e', equals = "f" } },
  { subject = { starts_with = "g", ends_with = "h" } },
  { body = { regex = '\\w+\\s\\d', case_sensitive = true } },
  { header = { "X-A" = { exists = true }, "Received" = { equals = "x" } } },
  { attachment = { filename = "*.pdf", content_type = "image/*" } },
  { contact = { has_tag = "v", lacks_tag = "w", score_at_least = 1, score_at_most = 2, stage = "lead" } },
  { contact.company = "c" },
  { weekday = "weekend", time = { after = "18:00", before = "08:00" } },
  { not = { kind = "normal", mailbox = "sales", direction = "out", from.free_mail = true } },
]""",
    'then = { queue = "support", add_tags = "t", score = 1, deal = { name = "d" } }',
)

texts = st.text(max_size=40)
addresses = st.builds(Address, email=st.one_of(st.emails(), texts), name=texts)
messages = st.builds(
    Message,
    message_id=st.none() | texts,
    subject=texts,
    from_=st.none() | addresses,
    to=st.lists(addresses, max_size=3).map(tuple),
    cc=st.lists(addresses, max_size=2).map(tuple),
    text=st.text(max_size=200),
    attachments=st.lists(st.builds(Attachment, texts, texts, st.integers(0, 10**6)), max_size=2).map(tuple),
    headers=st.lists(st.tuples(texts, texts), max_size=5).map(tuple),
)
contacts = st.none() | st.builds(
    ContactFacts,
    email=texts,
    tags=st.frozensets(texts, max_size=3),
    score=st.floats(allow_nan=True, allow_infinity=True),
    stage=st.none() | st.sampled_from(["lead", "customer", "?"]),
    company_domain=st.none() | texts,
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    message=messages,
    raw=st.binary(max_size=300),
    kind=st.sampled_from(["normal", "bounce", "list", "auto_reply", "", "Ünknown"]),
    mailbox=st.sampled_from(["support", "sales", "", "SUPPORT", "x"]),
    direction=st.sampled_from(["in", "out", ""]),
    contact=contacts,
    now=st.datetimes(timezones=st.none() | st.timezones()),
    timezone=st.sampled_from(["UTC", "Europe/Berlin", "Nowhere/Else", "", "../etc"]),
    new_text=st.none() | st.text(max_size=100),
)
def test_evaluate_never_raises(
    message: Message,
    raw: bytes,
    kind: str,
    mailbox: str,
    direction: str,
    contact: ContactFacts | None,
    now: datetime,
    timezone: str,
    new_text: str | None,
) -> None:
    for candidate in (message, parse_message(raw)):
        facts = Facts(candidate, kind, mailbox, mailbox, contact, now, timezone, new_text, direction)
        decision = evaluate(_TOTALITY_RULES, facts)
        assert all(match.because for match in decision.matches)
        assert not [p for p in decision.problems if "timezone" not in p]
        # The generated plan and the rule-by-rule path agree, and reasons change nothing but the reasons.
        assert evaluate(_RULE_BY_RULE, facts) == decision
        without = evaluate(_TOTALITY_RULES, facts, reasons=False)
        assert without == replace(decision, matches=tuple(replace(m, because=()) for m in decision.matches))


_TOTALITY_RULES = compile_rules(
    [("rules/everything.toml", EVERYTHING)]
    + [(str(p.relative_to(ROOT)), p.read_text(encoding="utf-8")) for p in sorted((ROOT / "rules").glob("*.toml"))],
    TEAM_VOCABULARY,
)
_RULE_BY_RULE = replace(_TOTALITY_RULES, plan_limit=0)
