"""The database schema (SQLAlchemy Core). Alembic migrations in `migrations/` must match it.

Rows are not the domain: repositories in `store.py` convert between these rows and core values.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
)

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

Id = BigInteger().with_variant(Integer(), "sqlite")  # SQLite only autoincrements INTEGER PRIMARY KEY
TS = DateTime(timezone=True)

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
    Column("raw_id", Id, ForeignKey("raw_messages.id", ondelete="CASCADE"), nullable=False, index=True),
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
    # token), echo (our own mail coming back in). NULL for everything else.
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
)

ticket_tags = Table(
    "ticket_tags",
    metadata,
    Column("ticket_id", Id, ForeignKey("tickets.id", ondelete="CASCADE"), primary_key=True),
    Column("tag", String(100), primary_key=True),
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
