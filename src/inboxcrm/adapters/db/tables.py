"""The database schema (SQLAlchemy Core). Alembic migrations in `migrations/` must match it.

Rows are not the domain: the statement classes of `store.SqlTransaction` convert between these rows and core values.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    Numeric,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
)

from inboxcrm.adapters.db.cluster_tables import fetchers as fetchers  # noqa: PLC0414 (re-exported)
from inboxcrm.adapters.db.cluster_tables import incidents as incidents  # noqa: PLC0414 (re-exported)
from inboxcrm.adapters.db.cluster_tables import mailbox_leases as mailbox_leases  # noqa: PLC0414 (re-exported)
from inboxcrm.adapters.db.schema_base import TS, Id
from inboxcrm.adapters.db.schema_base import metadata as metadata  # noqa: PLC0414 (re-exported)

raw_messages = Table(
    "raw_messages",
    metadata,
    Column("id", Id, primary_key=True),
    Column("content_hash", String(64), nullable=False, unique=True),
    Column("message_id", Text, nullable=True, index=True),
    Column("size", Integer, nullable=False),
    Column("raw", LargeBinary, nullable=False),
    Column("first_seen_at", TS, nullable=False),
)

message_locations = Table(
    "message_locations",
    metadata,
    Column("id", Id, primary_key=True),
    # no raw: a named message the mailbox's backlog left out (too old), remembered so it is not read again
    Column("raw_id", Id, ForeignKey("raw_messages.id", ondelete="CASCADE"), nullable=True, index=True),
    Column("mailbox", String(100), nullable=False),
    Column("folder", String(1000), nullable=False),
    Column("uidvalidity", BigInteger, nullable=False),
    Column("uid", BigInteger, nullable=False),
    # a file source's stable name for the message (Maildir unique name, mbox offset.hash, .eml file name)
    Column("name", String(500), nullable=True),
    Column("seen_at", TS, nullable=False),
    UniqueConstraint("mailbox", "folder", "uidvalidity", "uid", name="uq_message_locations_place"),
    Index("uq_message_locations_name", "mailbox", "folder", "name", unique=True),
)

folder_cursors = Table(
    "folder_cursors",
    metadata,
    Column("mailbox", String(100), primary_key=True),
    Column("folder", String(1000), primary_key=True),
    Column("uidvalidity", BigInteger, nullable=False),
    Column("last_uid", BigInteger, nullable=False),
    Column("updated_at", TS, nullable=False),
    # The folder's history (core/history.py), recorded when inboxcrm first connected: UIDs up to
    # `history_until` were there already; history dated before `history_since` is not stored; `history_total`
    # messages were there, `history_read` of them are done. NULL `history_until`: everything is live.
    Column("history_until", BigInteger, nullable=True),
    Column("history_since", TS, nullable=True),
    Column("history_total", BigInteger, nullable=True),
    Column("history_read", BigInteger, nullable=False, server_default="0"),
    Column("connected_at", TS, nullable=True),
)

companies = Table(
    "companies",
    metadata,
    Column("id", Id, primary_key=True),
    Column("domain", String(255), nullable=False, unique=True),
    Column("name", String(255), nullable=False),
    Column("created_at", TS, nullable=False),
)

contacts = Table(
    "contacts",
    metadata,
    Column("id", Id, primary_key=True),
    Column("email", String(320), nullable=False, unique=True),
    Column("name", String(255), nullable=False, default=""),
    Column("company_id", Id, ForeignKey("companies.id"), nullable=True, index=True),
    Column("undeliverable", Boolean, nullable=False, default=False),
    Column("created_at", TS, nullable=False),
    # Lead score (points from rules) and lifecycle stage.
    Column("score", Float, nullable=False, server_default="0"),
    # `score` is the score as of this moment; it halves every half-life after it (see core/scoring.py).
    Column("score_at", TS, nullable=True),
    Column("stage", String(40), nullable=True, index=True),
    # Known only from history mail so far: state-triggered campaigns leave them alone until they write live.
    Column("from_history", Boolean, nullable=False, server_default=false()),
)

contact_tags = Table(
    "contact_tags",
    metadata,
    Column("contact_id", Id, ForeignKey("contacts.id", ondelete="CASCADE"), primary_key=True),
    Column("tag", String(100), primary_key=True),
)

score_changes = Table(
    "score_changes",
    metadata,
    Column("id", Id, primary_key=True),
    Column("contact_id", Id, ForeignKey("contacts.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("at", TS, nullable=False),
    Column("points", Float, nullable=False),
    Column("reason", Text, nullable=False),
    Column("message_id", Id, ForeignKey("messages.id", ondelete="SET NULL"), nullable=True),
)

contact_aliases = Table(
    "contact_aliases",
    metadata,
    Column("email", String(320), primary_key=True),
    Column("contact_id", Id, ForeignKey("contacts.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("created_at", TS, nullable=False),
)

threads = Table(
    "threads",
    metadata,
    Column("id", Id, primary_key=True),
    Column("subject", Text, nullable=False),
    # The subject without Re:/Fwd:/AW: … prefixes, for the subject fallback (within a window, among participants).
    Column("subject_key", String(255), nullable=False, server_default="", index=True),
    Column("mailbox", String(100), nullable=False),
    Column("created_at", TS, nullable=False),
    Column("last_message_at", TS, nullable=False),
)

thread_message_ids = Table(
    "thread_message_ids",
    metadata,
    Column("message_id", String(900), primary_key=True),
    Column("thread_id", Id, ForeignKey("threads.id", ondelete="CASCADE"), nullable=False, index=True),
)

messages = Table(
    "messages",
    metadata,
    Column("id", Id, primary_key=True),
    Column("raw_id", Id, ForeignKey("raw_messages.id", ondelete="CASCADE"), nullable=False, unique=True),
    Column("thread_id", Id, ForeignKey("threads.id"), nullable=False, index=True),
    Column("contact_id", Id, ForeignKey("contacts.id"), nullable=True, index=True),
    Column("mailbox", String(100), nullable=False),
    Column("direction", String(3), nullable=False),
    Column("message_id", Text, nullable=True, index=True),
    Column("in_reply_to", Text, nullable=True),
    Column("references", JSON, nullable=False),
    Column("subject", Text, nullable=False),
    Column("from_email", String(320), nullable=True),
    Column("from_name", Text, nullable=False),
    Column("to", JSON, nullable=False),
    Column("cc", JSON, nullable=False),
    Column("sent_at", TS, nullable=False, index=True),
    Column("received_at", TS, nullable=False),
    Column("text", Text, nullable=False),
    Column("html", Text, nullable=True),
    Column("attachments", JSON, nullable=False),
    Column("headers", JSON, nullable=False),
    Column("defects", JSON, nullable=False),
    # What the message is (normal, auto_reply, bounce, feedback_report, list) and its parts.
    Column("kind", String(20), nullable=False, server_default="normal"),
    Column("new_text", Text, nullable=True),
    Column("quoted_text", Text, nullable=True),
    Column("signature", Text, nullable=True),
    Column("forwarded_text", Text, nullable=True),
    Column("bounce", JSON, nullable=True),
    # A forward filed under the original author: who forwarded it, and how sure we are.
    Column("original_from_email", String(320), nullable=True),
    Column("forwarded_by", String(320), nullable=True),
    Column("forward_confidence", Float, nullable=True),
    # What the rules decided for this message: matched rules and effects (for explain and backtest).
    Column("decision", JSON, nullable=True),
    Column("ignored", Boolean, nullable=False, server_default=false()),
    # What the message is to the support desk: agent_reply (relayed to the customer), observed_reply (an agent
    # wrote to the customer directly), note, commands (only commands), refused (a forged or expired relay
    # token), echo (our own mail coming back in), unverified (mail from an agent's address that failed
    # authentication: kept and shown, never obeyed). NULL for everything else.
    Column("role", String(20), nullable=True),
)

tickets = Table(
    "tickets",
    metadata,
    Column("id", Id, primary_key=True),
    # Not unique: merging two threads keeps both tickets, and a later issue reopens closed ones anew.
    Column("thread_id", Id, ForeignKey("threads.id"), nullable=False, index=True),
    Column("mailbox", String(100), nullable=False),
    Column("contact_id", Id, ForeignKey("contacts.id"), nullable=True, index=True),
    Column("subject", Text, nullable=False),
    Column("status", String(16), nullable=False, index=True),
    Column("created_at", TS, nullable=False),
    Column("updated_at", TS, nullable=False),
    Column("queue", String(100), nullable=True, index=True),
    Column("priority", String(16), nullable=False, server_default="normal"),
    Column("assignee", String(100), nullable=True, index=True),
    # SLA clocks: when each target is due (from the priority's targets) and when it was met or breached.
    Column("first_response_at", TS, nullable=True),
    Column("solved_at", TS, nullable=True),
    Column("first_response_due", TS, nullable=True),
    Column("resolution_due", TS, nullable=True),
    Column("first_response_breached_at", TS, nullable=True),
    Column("resolution_breached_at", TS, nullable=True),
    # `#snooze 3d`: pending until then, when the ticket opens again by itself.
    Column("snoozed_until", TS, nullable=True, index=True),
    # Opened by history (mail that was in the mailbox before inboxcrm connected, or imported): later history
    # may still change its status; live mail ends that.
    Column("from_history", Boolean, nullable=False, server_default=false()),
)

ticket_tags = Table(
    "ticket_tags",
    metadata,
    Column("ticket_id", Id, ForeignKey("tickets.id", ondelete="CASCADE"), primary_key=True),
    Column("tag", String(100), primary_key=True),
)

# "How did we do?": one survey per ticket (asked once, when it is first solved) and the customer's answer.
satisfaction = Table(
    "satisfaction",
    metadata,
    Column("ticket_id", Id, ForeignKey("tickets.id", ondelete="CASCADE"), primary_key=True),
    Column("asked_at", TS, nullable=False),
    Column("rating", String(8), nullable=True),  # good, okay, bad; NULL until answered
    Column("comment", Text, nullable=True),
    Column("rated_at", TS, nullable=True, index=True),
    # who and where at the time of the answer, for the reports (a later reassignment does not move it)
    Column("assignee", String(100), nullable=True),
    Column("queue", String(100), nullable=True),
)

timeline_events = Table(
    "timeline_events",
    metadata,
    Column("id", Id, primary_key=True),
    Column("contact_id", Id, ForeignKey("contacts.id", ondelete="CASCADE"), nullable=False),
    Column("at", TS, nullable=False),
    Column("kind", String(40), nullable=False),
    Column("message_id", Id, ForeignKey("messages.id", ondelete="CASCADE"), nullable=True, index=True),
    Column("ticket_id", Id, ForeignKey("tickets.id", ondelete="CASCADE"), nullable=True, index=True),
    Column("summary", Text, nullable=False),
    Index("ix_timeline_events_contact_at", "contact_id", "at", "id"),
    # the lead funnel reads stage changes in a date range
    Index("ix_timeline_events_kind_at", "kind", "at"),
)

quarantine = Table(
    "quarantine",
    metadata,
    Column("id", Id, primary_key=True),
    Column("raw_id", Id, ForeignKey("raw_messages.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("mailbox", String(100), nullable=False),
    Column("error", Text, nullable=False),
    Column("attempts", Integer, nullable=False, default=1),
    Column("created_at", TS, nullable=False),
    Column("resolved_at", TS, nullable=True),
)

deals = Table(
    "deals",
    metadata,
    Column("id", Id, primary_key=True),
    # A deal belongs to the contact's company, or to the contact when they write from free mail.
    Column("company_id", Id, ForeignKey("companies.id"), nullable=True, index=True),
    Column("contact_id", Id, ForeignKey("contacts.id", ondelete="SET NULL"), nullable=True, index=True),
    Column("name", String(255), nullable=False),
    Column("value", Float, nullable=True),
    Column("stage", String(40), nullable=False, index=True),
    Column("created_at", TS, nullable=False),
    Column("updated_at", TS, nullable=False),
)

outbox = Table(
    "outbox",
    metadata,
    Column("id", Id, primary_key=True),
    # The business key (e.g. "relay:<message id>", "ack:<ticket id>"): deciding twice never queues twice.
    Column("key", String(200), nullable=False, unique=True),
    Column("kind", String(30), nullable=False),
    # Generated with the row, and inside `raw`: a retry after a crash resends the very same message.
    Column("message_id", String(300), nullable=False, unique=True),
    Column("mailbox", String(100), nullable=True),
    Column("sender", String(320), nullable=False),
    Column("recipients", JSON, nullable=False),
    Column("raw", LargeBinary, nullable=False),
    # Automatic mail (acknowledgements, notifications, reports) and the address whose mail caused it, for the
    # per-sender loop fuse.
    Column("automatic", Boolean, nullable=False),
    Column("cause", String(320), nullable=True, index=True),
    Column("ticket_id", Id, ForeignKey("tickets.id", ondelete="SET NULL"), nullable=True, index=True),
    Column("contact_id", Id, ForeignKey("contacts.id", ondelete="SET NULL"), nullable=True, index=True),
    # The agent who wrote it (relayed replies): told by mail when the customer's server refuses it.
    Column("author", String(320), nullable=True),
    Column("source_message_id", Id, ForeignKey("messages.id", ondelete="SET NULL"), nullable=True),
    Column("status", String(10), nullable=False),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("next_attempt_at", TS, nullable=False),
    # A dispatcher claims rows until then; a crashed one's claim runs out and another sends the same bytes.
    Column("claimed_until", TS, nullable=True),
    Column("last_error", Text, nullable=True),
    Column("created_at", TS, nullable=False, index=True),
    Column("sent_at", TS, nullable=True),
    # Campaign mail: which campaign and step, for rate limits and the campaign figures.
    Column("campaign", String(100), nullable=True, index=True),
    Column("step", Integer, nullable=True),
    Column("enrolment_id", Id, ForeignKey("enrolments.id", ondelete="SET NULL"), nullable=True, index=True),
    Index("ix_outbox_due", "status", "next_attempt_at"),
)

enrolments = Table(
    "enrolments",
    metadata,
    Column("id", Id, primary_key=True),
    Column("contact_id", Id, ForeignKey("contacts.id", ondelete="CASCADE"), nullable=False),
    Column("campaign", String(100), nullable=False),
    # active → finished (every step sent) or exited (exit_reason says why)
    Column("status", String(10), nullable=False),
    # how the contact came in: tag, stage, score, segment, rule, api, cli
    Column("source", String(20), nullable=False),
    Column("enrolled_at", TS, nullable=False),
    # the next step to send (1-based) and when; NULL once finished or exited
    Column("step", Integer, nullable=False),
    Column("next_due_at", TS, nullable=True),
    Column("last_sent_at", TS, nullable=True),
    Column("exited_at", TS, nullable=True),
    Column("exit_reason", Text, nullable=True),
    Index("ix_enrolments_due", "status", "next_due_at"),
    Index("ix_enrolments_contact_campaign", "contact_id", "campaign"),
)

suppressions = Table(
    "suppressions",
    metadata,
    # Addresses no campaign may mail again: unsubscribed, bounced (hard) or complained.
    Column("email", String(320), primary_key=True),
    Column("reason", String(20), nullable=False),
    Column("campaign", String(100), nullable=True),
    Column("at", TS, nullable=False),
)

soft_bounces = Table(
    "soft_bounces",
    metadata,
    # Every soft bounce of an address (never a delay): `[campaigns] soft_bounce_limit` of them within
    # `soft_bounce_window` put the address on the suppression list (core/suppression.py).
    Column("id", Id, primary_key=True),
    Column("email", String(320), nullable=False),
    Column("at", TS, nullable=False),
    Column("reason", String(40), nullable=False),
    # where it was seen: "message" (a bounce notice) or "smtp" (our own send was refused)
    Column("source", String(20), nullable=False),
    Index("ix_soft_bounces_email_at", "email", "at"),
)

api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", Id, primary_key=True),
    Column("name", String(100), nullable=False, unique=True),
    # read | write | admin; each includes the ones before it
    Column("scope", String(10), nullable=False),
    # SHA-256 of the token: the token itself is shown once, when it is created, and never stored
    Column("token_hash", String(64), nullable=False, unique=True),
    # requests per minute; NULL = the default
    Column("rate_limit", Integer, nullable=True),
    Column("created_at", TS, nullable=False),
    Column("last_used_at", TS, nullable=True),
    Column("revoked_at", TS, nullable=True),
)

audit_log = Table(
    "audit_log",
    metadata,
    Column("id", Id, primary_key=True),
    Column("at", TS, nullable=False, index=True),
    # who: an API token's name, or "cli"
    Column("actor", String(100), nullable=False),
    # what: export, erase, token_created, token_revoked, contact_updated, ticket_updated, enrolled, …
    Column("action", String(40), nullable=False, index=True),
    # about what: "contact:12", "ticket:7", "token:ops"; erased contacts are named by id only
    Column("subject", String(200), nullable=False),
    Column("detail", JSON, nullable=False),
)

# -- the customer record: custom fields, business events, webhooks out, the search index's settings

contact_fields = Table(
    "contact_fields",
    metadata,
    # One value of a field declared in the config's [[fields]]: `value` in canonical text (numbers as Python
    # writes them, dates ISO 8601, booleans true/false); `number` holds number fields again, for comparisons.
    Column("contact_id", Id, ForeignKey("contacts.id", ondelete="CASCADE"), primary_key=True),
    Column("name", String(100), primary_key=True),
    Column("value", Text, nullable=False),
    Column("number", Float, nullable=True),
    Index("ix_contact_fields_name_value", "name", "value"),
)

business_events = Table(
    "business_events",
    metadata,
    Column("id", Id, primary_key=True),
    Column("contact_id", Id, ForeignKey("contacts.id", ondelete="CASCADE"), nullable=False, index=True),
    # order, invoice, payment, refund, subscription, or any name of the caller's
    Column("kind", String(40), nullable=False),
    Column("amount", Numeric(20, 4), nullable=True),
    Column("currency", String(3), nullable=True),
    Column("at", TS, nullable=False),
    # The caller's id for the event (an order number): recording it twice records it once.
    Column("external_id", String(200), nullable=True, unique=True),
    Column("source", String(20), nullable=False),
    Column("properties", JSON, nullable=False),
    Column("created_at", TS, nullable=False),
    Index("ix_business_events_kind_at", "kind", "at"),
)

webhook_deliveries = Table(
    "webhook_deliveries",
    metadata,
    Column("id", Id, primary_key=True),
    Column("webhook", String(100), nullable=False),
    Column("event", String(40), nullable=False),
    # Sent as X-InboxCRM-Delivery: the same for every attempt, so that receivers can drop repeats.
    Column("delivery_id", String(64), nullable=False, unique=True),
    # The exact JSON body, written once: every attempt sends (and signs) the same bytes.
    Column("body", Text, nullable=False),
    Column("contact_id", Id, ForeignKey("contacts.id", ondelete="CASCADE"), nullable=True, index=True),
    Column("status", String(10), nullable=False),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("next_attempt_at", TS, nullable=False),
    Column("claimed_until", TS, nullable=True),
    Column("last_error", Text, nullable=True),
    Column("created_at", TS, nullable=False),
    Column("sent_at", TS, nullable=True),
    Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),
)

search_index = Table(
    "search_index",
    metadata,
    # One row: the language the full-text index was built with (see adapters/db/search.py). Queries are read
    # with the index's language, not the config's, until `inboxcrm search --rebuild` builds it anew.
    Column("id", Integer, primary_key=True),
    Column("language", String(40), nullable=False),
    Column("built_at", TS, nullable=False),
)

# An agent's relayed reply not sent because another answer (or the customer) crossed it (core/collisions.py):
# `#send` in answer to the notice sends it; otherwise it is dropped at `drop_at`. `body` is the customer's copy.
held_replies = Table(
    "held_replies",
    metadata,
    Column("id", Id, primary_key=True),
    Column("ticket_id", Id, ForeignKey("tickets.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("message_id", Id, ForeignKey("messages.id", ondelete="CASCADE"), nullable=False, unique=True),
    Column("raw_id", Id, ForeignKey("raw_messages.id", ondelete="CASCADE"), nullable=False),
    Column("agent", String(100), nullable=False),
    Column("author", String(320), nullable=False),
    Column("mailbox", String(100), nullable=False),
    Column("body", Text, nullable=False),
    Column("notice_message_id", String(300), nullable=True, index=True),
    Column("held_at", TS, nullable=False),
    Column("drop_at", TS, nullable=False),
    Column("status", String(10), nullable=False),  # held | sent | dropped
    Column("resolved_at", TS, nullable=True),
    Index("ix_held_replies_due", "status", "drop_at"),
)
