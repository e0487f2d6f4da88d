"""The words of rule files: what a rule may say (conditions, operators, actions) and the names it may use.

The format (rules/README.md has the long version)::

    [[rule]]
    name = "Invoices go to billing"          # required, unique over all files
    when.mailbox = "support"                  # conditions; all of them must hold
    when.subject.contains = ["invoice", "refund"]
    then = { queue = "billing", assign = "ben", add_tags = "billing" }

Conditions (a string or a list of strings; a list means "any of"):
  mailbox, mailbox_kind (support/sales/other), kind (normal/auto_reply/bounce/feedback_report/list),
    direction (in: from a customer, out: from our team);
  from, to, cc, recipients (to or cc): "x@y.com", "*@y.com", "y.com" (that domain and its subdomains), or
    { address = …, domain = …, free_mail = true|false } (globs allowed in address and domain);
  subject, body (the new text of the message): "word" (contains), or { contains, contains_all, contains_word,
    regex, equals, starts_with, ends_with, case_sensitive = false };
  header = { "X-Priority" = "1", "In-Reply-To" = { exists = false } } (the text operators, plus exists);
  attachment = true|false, or { filename = "*.pdf", content_type = "image/*" };
  contact = { has_tag, lacks_tag, score_at_least, score_at_most, stage, company = true | "acme.com",
    field.<name> = value | [values] | { at_least, at_most, exists } } (custom fields, `[[fields]]`);
  event = "order" | ["order", "payment"] | { kind, amount_at_least, amount_at_most, currency }: the rule runs on
    business events of those kinds (and only on them: never on mail);
  weekday = "weekend" | ["mon", "fri"]; time = { after = "18:00", before = "08:00" } (in `Facts.timezone`);
  all = [{…}, {…}], any = [{…}, {…}], not = {…}: combinators, nestable.
Text matching ignores case unless `case_sensitive = true`.

Actions: queue, priority, assign (an agent or "round-robin"), add_tags, remove_tags, stage,
score (points, or { points, reason }), open_ticket, ignore, enrol, auto_reply, deal = { name, value, stage }, stop.

Names of queues, agents, stages, campaigns, templates and deal stages are checked against a `Vocabulary`.
"""

from __future__ import annotations

from dataclasses import dataclass

from inboxcrm.core.fields import FieldDef

PRIORITIES = ("low", "normal", "high", "urgent")
ROUND_ROBIN = "round-robin"
# Deeper nesting than this is a mistake, and Python's compiler has a recursion limit of its own.
MAX_DEPTH = 24


@dataclass(frozen=True, slots=True)
class Vocabulary:
    """The names actions and conditions may refer to. `mailboxes` None means mailbox names are not checked."""

    templates: frozenset[str] = frozenset()
    campaigns: frozenset[str] = frozenset()
    agents: frozenset[str] = frozenset()
    stages: tuple[str, ...] = ()
    queues: frozenset[str] = frozenset()
    deal_stages: tuple[str, ...] = ()
    mailboxes: frozenset[str] | None = None
    priorities: tuple[str, ...] = PRIORITIES
    fields: tuple[FieldDef, ...] = ()


# The fields whose values pre-select rules: few distinct values, and nearly every rule names one of them.
GUARDED = ("mailbox", "mailbox_kind", "kind", "direction")

CONDITIONS = (
    "mailbox",
    "mailbox_kind",
    "kind",
    "direction",
    "from",
    "to",
    "cc",
    "recipients",
    "subject",
    "body",
    "header",
    "attachment",
    "contact",
    "weekday",
    "time",
    "event",
    "all",
    "any",
    "not",
)
ACTIONS = (
    "queue",
    "priority",
    "assign",
    "add_tags",
    "remove_tags",
    "stage",
    "score",
    "open_ticket",
    "ignore",
    "enrol",
    "auto_reply",
    "deal",
    "stop",
)
RULE_KEYS = ("name", "description", "enabled", "when", "then")
TEXT_OPERATORS = (
    "contains",
    "contains_all",
    "contains_word",
    "regex",
    "equals",
    "starts_with",
    "ends_with",
    "case_sensitive",
)
HEADER_OPERATORS = (*TEXT_OPERATORS, "exists")
ADDRESS_OPERATORS = ("address", "domain", "free_mail")
ATTACHMENT_OPERATORS = ("filename", "content_type")
CONTACT_OPERATORS = ("has_tag", "lacks_tag", "score_at_least", "score_at_most", "stage", "company", "field")
FIELD_OPERATORS = ("at_least", "at_most", "exists")
EVENT_OPERATORS = ("kind", "amount_at_least", "amount_at_most", "currency")
TIME_OPERATORS = ("after", "before")
TEXT_FIELDS = ("subject", "body")
ADDRESS_FIELDS = ("from", "to", "cc", "recipients")
GLOB_CHARS = frozenset("*?[")
