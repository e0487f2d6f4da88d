"""The per-message context the generated rule code reads: one message digested once (lower-cased texts, the
body's words, addresses, domains and their parent domains, only the headers rules name), and the helpers that
code calls."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from inboxcrm.core.addresses import FREE_MAIL_DOMAINS
from inboxcrm.core.rules.text_index import vocabulary, word_runs

if TYPE_CHECKING:
    from inboxcrm.core.model import Message
    from inboxcrm.core.rules.model import Facts, RuleSet


# Body conditions read at most this much text: a pathological regex on a huge body stays bounded.
MAX_BODY_CHARS = 100_000


class Context:
    """One message, pre-digested for matching: lower-cased texts, emails, domains and their parent domains.
    `body_words` are the distinct words (`\\w+` runs) of the lower-cased body and `body_vocab` those words joined
    by spaces, found when a rule first reads them (`words`, `vocab`); None until then."""

    __slots__ = (
        "attachments",
        "body",
        "body_raw",
        "body_vocab",
        "body_words",
        "cc",
        "cc_domains",
        "cc_suffixes",
        "company_domain",
        "company_suffixes",
        "direction",
        "event",
        "event_amount",
        "event_currency",
        "fields",
        "from_domain",
        "from_email",
        "from_suffixes",
        "has_contact",
        "headers",
        "headers_raw",
        "kind",
        "local",
        "mailbox",
        "mailbox_kind",
        "minute",
        "recipients",
        "recipients_domains",
        "recipients_suffixes",
        "score",
        "stage",
        "subject",
        "subject_raw",
        "tags",
        "to",
        "to_domains",
        "to_suffixes",
        "weekday",
    )

    mailbox: str
    mailbox_kind: str
    kind: str
    direction: str
    event: str
    event_amount: float | None
    event_currency: str
    fields: Mapping[str, str | float | bool]
    subject: str
    subject_raw: str
    body: str
    body_raw: str
    body_words: frozenset[str] | None
    body_vocab: str | None
    from_email: str
    from_domain: str
    from_suffixes: tuple[str, ...]
    to: tuple[str, ...]
    to_domains: tuple[str, ...]
    to_suffixes: tuple[str, ...]
    cc: tuple[str, ...]
    cc_domains: tuple[str, ...]
    cc_suffixes: tuple[str, ...]
    recipients: tuple[str, ...]
    recipients_domains: tuple[str, ...]
    recipients_suffixes: tuple[str, ...]
    headers: dict[str, str]
    headers_raw: dict[str, str]
    attachments: tuple[tuple[str, str], ...]
    has_contact: bool
    tags: frozenset[str]
    score: float
    stage: str | None
    company_domain: str
    company_suffixes: tuple[str, ...]
    weekday: int
    minute: int
    local: datetime | None


def suffixes(domain: str) -> tuple[str, ...]:
    """`mail.eu.acme.com` → itself, `eu.acme.com`, `acme.com`, `com`: a domain condition matches any of them."""
    if not domain:
        return ()
    found = [domain]
    dot = domain.find(".")
    while dot >= 0:
        found.append(domain[dot + 1 :])
        dot = domain.find(".", dot + 1)
    return tuple(found)


def domain_of(email: str) -> str:
    return email.rpartition("@")[2].rstrip(".")


def digest(facts: Facts, rules: RuleSet, problems: list[str]) -> Context:
    """Digest `facts` once; only the work the rules need (body, headers they name, recipients, time …) is done."""
    needs = rules.needs
    c = Context()
    message = facts.message
    c.mailbox = str(facts.mailbox).lower()
    c.mailbox_kind = str(facts.mailbox_kind).lower()
    c.kind = str(facts.kind).lower()
    c.direction = str(facts.direction).lower()
    subject = message.subject.strip()
    c.subject_raw = subject
    c.subject = subject.lower()
    sender = message.from_.email.lower() if message.from_ is not None else ""
    c.from_email = sender
    c.from_domain = domain_of(sender)
    c.from_suffixes = suffixes(c.from_domain)
    c.to = c.to_domains = c.to_suffixes = c.cc = c.cc_domains = c.cc_suffixes = ()
    if "to" in needs or "cc" in needs or "recipients" in needs:
        c.to = tuple([a.email.lower() for a in message.to])
        c.to_domains = tuple([domain_of(e) for e in c.to])
        c.to_suffixes = tuple([s for d in c.to_domains for s in suffixes(d)])
        if message.cc:
            c.cc = tuple([a.email.lower() for a in message.cc])
            c.cc_domains = tuple([domain_of(e) for e in c.cc])
            c.cc_suffixes = tuple([s for d in c.cc_domains for s in suffixes(d)])
    c.recipients = c.to + c.cc
    c.recipients_domains = c.to_domains + c.cc_domains
    c.recipients_suffixes = c.to_suffixes + c.cc_suffixes
    c.body_words = c.body_vocab = None  # found on first use: `words`, `vocab`
    if "body" in needs:
        body = body_text(message, facts.new_text)
        c.body_raw = body
        c.body = body.lower()
        c.body_vocab = facts.words  # made where the message was read, or None
    else:
        c.body = c.body_raw = ""
    c.headers = c.headers_raw = _NO_HEADERS
    wanted = rules.header_names
    if wanted:
        found: dict[str, list[str]] = {}
        for name, value in message.headers:
            key = name.lower()
            if key in wanted:
                found.setdefault(key, []).append(value.strip())
        if found:
            c.headers_raw = {name: "\n".join(values) for name, values in found.items()}
            c.headers = {name: value.lower() for name, value in c.headers_raw.items()}
    c.attachments = (
        tuple([(a.filename.lower(), a.content_type.lower()) for a in message.attachments])
        if message.attachments
        else ()
    )
    contact = facts.contact
    if contact is None:
        c.has_contact, c.tags, c.score, c.stage, c.company_domain = False, _NO_TAGS, 0.0, None, ""
        c.fields = _NO_FIELDS
    else:
        c.has_contact, c.tags, c.score, c.stage = True, contact.tags, contact.score, contact.stage
        c.fields = contact.fields
        c.company_domain = (contact.company_domain or "").lower()
    c.company_suffixes = suffixes(c.company_domain)
    event = facts.event
    c.event = event.kind.lower() if event is not None else ""
    c.event_amount = event.amount if event is not None else None
    c.event_currency = (event.currency or "").upper() if event is not None else ""
    c.weekday, c.minute, c.local = 0, 0, None
    if "time" in needs:
        now = facts.now if facts.now.tzinfo is not None else facts.now.replace(tzinfo=UTC)
        try:
            zone = ZoneInfo(facts.timezone)
        except Exception:  # an unknown or malformed zone name must not stop evaluation
            problems.append(f"unknown timezone {facts.timezone!r}: weekday and time read in UTC")
            zone = ZoneInfo("UTC")
        c.local = now.astimezone(zone)
        c.weekday = c.local.weekday()
        c.minute = c.local.hour * 60 + c.local.minute
    return c


_NO_HEADERS: dict[str, str] = {}  # shared and never written to
_NO_TAGS: frozenset[str] = frozenset()
_NO_FIELDS: Mapping[str, str | float | bool] = {}


def local_time(c: Context) -> str:
    return c.local.strftime("%a %H:%M") if c.local is not None else "?"


def body_text(message: Message, new_text: str | None) -> str:
    """The text body conditions read: the message's new text (without quotes and signature) when the analysis
    found it, else its whole text; bounded and trimmed."""
    return (new_text if new_text is not None else message.text)[:MAX_BODY_CHARS].strip()


def body_words(message: Message, new_text: str | None) -> str:
    """The distinct words of `body_text` in lower case, sorted and joined by spaces (a `vocab`; sorted, so it
    is the same in every process). Pure and per message, so the parsing processes make it (`Facts.words`),
    not the daemon."""
    return vocabulary(sorted(word_runs(body_text(message, new_text).lower())))


def words(c: Context) -> frozenset[str]:
    """The body's distinct words, found on first use: a message whose rules stop early never pays for them.
    Generated code reads `(c.body_words if c.body_words is not None else _words(c))`."""
    found = c.body_words
    if found is None:
        if c.body_vocab is not None:  # made where the message was read: words never hold a space
            found = c.body_words = frozenset(c.body_vocab.split())
        else:
            found = c.body_words = word_runs(c.body)
            c.body_vocab = vocabulary(found)
    return found


def vocab(c: Context) -> str:
    """The body's distinct words joined by spaces, found on first use (see `words`)."""
    if c.body_vocab is None:
        words(c)
    return c.body_vocab or ""


def _any_match(pattern: re.Pattern[str], values: tuple[str, ...]) -> bool:
    # A plain loop, not any(<generator>): this runs inside the hot path of evaluation.
    for value in values:  # noqa: SIM110
        if pattern.match(value) is not None:
            return True
    return False


def _attachment_match(
    names: re.Pattern[str] | None, types: re.Pattern[str] | None, attachments: tuple[tuple[str, str], ...]
) -> bool:
    for filename, content_type in attachments:
        if (names is None or names.match(filename) is not None) and (
            types is None or types.match(content_type) is not None
        ):
            return True
    return False


HELPERS: dict[str, object] = {
    "__builtins__": {},
    "_any_match": _any_match,
    "_attachment_match": _attachment_match,
    "_FREE": FREE_MAIL_DOMAINS,
    "_words": words,
    "_vocab": vocab,
}
