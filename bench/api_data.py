"""The big database of bench/api.py, made up: contacts (a few write a lot, most a little), threads of 4
messages with their raw rows, a ticket for every 5th thread (queues, priorities, agents, first responses,
solutions, SLA due times and breaches), timeline events, deals, campaign enrolments and their sent mail,
spread over the SPAN before `end`. `populate` loads it with bulk INSERTs (executemany in chunks), not through
the ingest, which would take hours."""

from __future__ import annotations

import math
import random
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import islice
from typing import Any

from sqlalchemy import Engine, Table, insert

from inboxcrm.adapters.db import tables as t

CHUNK = 5_000
SPAN = timedelta(days=365)
QUEUES = ("support", "billing", "tech")
AGENTS = ("ana", "ben", "cy", "dee", "eli", "flo")
PRIORITIES = ("low", "normal", "high", "urgent")
STAGES = ("subscriber", "lead", "mql", "sql", "customer")
DEAL_STAGES = ("qualified", "demo", "proposal", "won", "lost")
CAMPAIGNS = ("welcome", "nurture", "winback")
TEXT = (
    "Hello team,\n\nthank you for the quick answer yesterday. We tried what you suggested and the export now "
    "runs, but the totals in the second sheet still do not match what the dashboard shows for October. "
    "Could you have another look? I attached the file and a screenshot of the settings we use.\n\n"
) * 3
RAW = b"From: someone@example.org\r\nSubject: bench\r\n\r\n(raw bytes are not read by these queries)\r\n"


@dataclass(frozen=True)
class Sizes:
    messages: int
    contacts: int

    @property
    def threads(self) -> int:
        return math.ceil(self.messages / 4)


def chunks(rows: Iterable[dict[str, Any]], size: int = CHUNK) -> Iterator[list[dict[str, Any]]]:
    iterator = iter(rows)
    while batch := list(islice(iterator, size)):
        yield batch


def load(engine: Engine, table: Table, rows: Iterable[dict[str, Any]]) -> int:
    count = 0
    for batch in chunks(rows):
        with engine.begin() as connection:
            connection.execute(insert(table), batch)
        count += len(batch)
    return count


class World:
    """The generated data: who owns which thread and when it started, decided once so that messages, tickets
    and events agree."""

    def __init__(self, sizes: Sizes, seed: int, end: datetime) -> None:
        self.sizes, self.end = sizes, end
        self.rng = random.Random(seed)
        # a few contacts write a lot, most a little: the owner's id is skewed towards the small ones
        self.owner = [int(sizes.contacts * self.rng.random() ** 2) + 1 for _ in range(sizes.threads)]
        self.start = [end - SPAN * self.rng.random() for _ in range(sizes.threads)]
        self.stage: dict[int, str | None] = {}
        self.created: dict[int, datetime] = {}

    def contacts(self) -> Iterator[dict[str, Any]]:
        rng = self.rng
        for i in range(1, self.sizes.contacts + 1):
            created = self.end - SPAN * rng.random()
            stage = rng.choices((None, *STAGES), weights=(30, 30, 20, 10, 5, 5))[0]
            self.stage[i], self.created[i] = stage, created
            yield {
                "id": i,
                "email": f"person{i}@company{i % 997}.example",
                "name": f"Person {i}",
                "company_id": None,
                "undeliverable": False,
                "created_at": created,
                "score": round(rng.gauss(25, 30), 1),
                "score_at": created,
                "stage": stage,
            }

    def threads(self) -> Iterator[dict[str, Any]]:
        for j, start in enumerate(self.start):
            yield {
                "id": j + 1,
                "subject": f"Question {j}",
                "subject_key": f"question {j}",
                "mailbox": "support" if j % 5 == 0 else "sales",
                "created_at": start,
                "last_message_at": start + timedelta(days=1),
            }

    def message_batches(self) -> Iterator[tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]]:
        """(raw rows, message rows, timeline events) per chunk of messages."""
        rng = self.rng
        for first in range(0, self.sizes.messages, CHUNK):
            raws: list[dict[str, Any]] = []
            messages: list[dict[str, Any]] = []
            events: list[dict[str, Any]] = []
            for i in range(first, min(first + CHUNK, self.sizes.messages)):
                thread, k = divmod(i, 4)
                sent = min(self.start[thread] + timedelta(hours=6 * k + 6 * rng.random()), self.end)
                inbound = k % 2 == 0
                contact = self.owner[thread]
                mid = f"m{i}@bench.example"
                raws.append(
                    {
                        "id": i + 1,
                        "content_hash": f"{i + 1:064x}",
                        "message_id": mid,
                        "size": len(RAW),
                        "raw": RAW,
                        "first_seen_at": sent,
                    }
                )
                messages.append(
                    {
                        "id": i + 1,
                        "raw_id": i + 1,
                        "thread_id": thread + 1,
                        "contact_id": contact,
                        "mailbox": "support" if thread % 5 == 0 else "sales",
                        "direction": "in" if inbound else "out",
                        "message_id": mid,
                        "in_reply_to": None,
                        "references": [],
                        "subject": f"Re: Question {thread}" if k else f"Question {thread}",
                        "from_email": f"person{contact}@company{contact % 997}.example"
                        if inbound
                        else "ana@team.example",
                        "from_name": "",
                        "to": [{"email": "support@team.example", "name": ""}],
                        "cc": [],
                        "sent_at": sent,
                        "received_at": sent,
                        "text": TEXT,
                        "attachments": [],
                        "headers": {},
                        "defects": [],
                        "kind": "normal",
                        "new_text": TEXT[:300],
                        "ignored": False,
                    }
                )
                events.append(
                    {
                        "contact_id": contact,
                        "at": sent,
                        "kind": "message_in" if inbound else "message_out",
                        "message_id": i + 1,
                        "ticket_id": None,
                        "summary": f"Question {thread}",
                    }
                )
            yield raws, messages, events

    def tickets(self) -> Iterator[dict[str, Any]]:
        rng = self.rng
        for j in range(0, self.sizes.threads, 5):
            created = self.start[j]
            age = self.end - created
            first = created + timedelta(seconds=rng.lognormvariate(8.5, 1.2)) if rng.random() < 0.9 else None
            if first is not None and first > self.end:
                first = None
            done = age > timedelta(days=14) or rng.random() < 0.5
            solved = (first or created) + timedelta(seconds=rng.lognormvariate(11, 1)) if done else None
            if solved is not None and solved > self.end:
                solved = None
            status = (
                ("closed" if age > timedelta(days=4) else "solved")
                if solved
                else rng.choice(("new", "open", "pending"))
            )
            if first is None and status in ("open", "pending"):
                status = "new"
            first_due, resolution_due = created + timedelta(hours=4), created + timedelta(days=2)
            first_breach = first_due if (first or self.end) > first_due else None
            resolution_breach = resolution_due if (solved or self.end) > resolution_due else None
            yield {
                "id": j // 5 + 1,
                "thread_id": j + 1,
                "mailbox": "support",
                "contact_id": self.owner[j],
                "subject": f"Question {j}",
                "status": status,
                "created_at": created,
                "updated_at": solved or first or created,
                "queue": rng.choice(QUEUES),
                "priority": rng.choices(PRIORITIES, weights=(20, 60, 15, 5))[0],
                "assignee": rng.choice(AGENTS) if rng.random() < 0.85 else None,
                "first_response_at": first,
                "solved_at": solved,
                "first_response_due": first_due,
                "resolution_due": resolution_due,
                "first_response_breached_at": first_breach,
                "resolution_breached_at": resolution_breach,
            }

    def ticket_events(self) -> Iterator[dict[str, Any]]:
        for j in range(0, self.sizes.threads, 5):
            yield {
                "contact_id": self.owner[j],
                "at": self.start[j],
                "kind": "ticket_opened",
                "message_id": None,
                "ticket_id": j // 5 + 1,
                "summary": f"Ticket #{j // 5 + 1} opened: Question {j}",
            }

    def stage_events(self) -> Iterator[dict[str, Any]]:
        rng = self.rng
        for contact, stage in self.stage.items():
            if stage is None:
                continue
            created = self.created[contact]
            moved = created + (self.end - created) * rng.random()
            summary = f"Stage (none) → {stage}: score 12 reached 10" if rng.random() < 0.5 else f"Stage lead → {stage}"
            yield {
                "contact_id": contact,
                "at": moved,
                "kind": "stage_changed",
                "message_id": None,
                "ticket_id": None,
                "summary": summary,
            }

    def deals(self) -> Iterator[dict[str, Any]]:
        rng = self.rng
        for n in range(1, self.sizes.contacts // 20 + 1):
            created = self.end - SPAN * rng.random()
            yield {
                "id": n,
                "company_id": None,
                "contact_id": rng.randint(1, self.sizes.contacts),
                "name": f"Deal {n}",
                "value": float(rng.randrange(500, 50_000, 500)),
                "stage": rng.choice(DEAL_STAGES),
                "created_at": created,
                "updated_at": created,
            }

    def enrolments_and_mail(self) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        rng = self.rng
        enrolments: list[dict[str, Any]] = []
        mail: list[dict[str, Any]] = []
        for n in range(1, self.sizes.contacts // 5 + 1):
            contact = rng.randint(1, self.sizes.contacts)
            enrolled = self.end - SPAN * rng.random()
            sent_steps = rng.randint(0, 3)
            status = rng.choices(("active", "finished", "exited"), weights=(40, 30, 30))[0]
            reason = rng.choice(("replied", "bounced", "unsubscribed", "ticket")) if status == "exited" else None
            enrolments.append(
                {
                    "id": n,
                    "contact_id": contact,
                    "campaign": rng.choice(CAMPAIGNS),
                    "status": status,
                    "source": "tag",
                    "enrolled_at": enrolled,
                    "step": sent_steps + 1,
                    "next_due_at": enrolled + timedelta(days=3 * (sent_steps + 1)) if status == "active" else None,
                    "last_sent_at": None,
                    "exited_at": enrolled + timedelta(days=5) if status == "exited" else None,
                    "exit_reason": reason,
                }
            )
            for step in range(1, sent_steps + 1):
                at = enrolled + timedelta(days=3 * step)
                mail.append(
                    {
                        "key": f"campaign-{n}-{step}",
                        "kind": "campaign",
                        "message_id": f"<c{n}.{step}@bench.example>",
                        "mailbox": "sales",
                        "sender": "sales@team.example",
                        "recipients": [f"person{contact}@company{contact % 997}.example"],
                        "raw": RAW,
                        "automatic": False,
                        "cause": None,
                        "contact_id": contact,
                        "status": "sent",
                        "attempts": 1,
                        "next_attempt_at": at,
                        "created_at": at,
                        "sent_at": at,
                        "campaign": enrolments[-1]["campaign"],
                        "step": step,
                        "enrolment_id": n,
                    }
                )
        return enrolments, mail


def populate(engine: Engine, sizes: Sizes, seed: int, end: datetime) -> dict[str, int]:
    world = World(sizes, seed, end)
    counts = {"contacts": load(engine, t.contacts, world.contacts())}
    counts["threads"] = load(engine, t.threads, world.threads())
    counts["messages"] = events = 0
    for raws, messages, message_events in world.message_batches():
        with engine.begin() as connection:
            connection.execute(insert(t.raw_messages), raws)
            connection.execute(insert(t.messages), messages)
            connection.execute(insert(t.timeline_events), message_events)
        counts["messages"] += len(messages)
        events += len(message_events)
    counts["tickets"] = load(engine, t.tickets, world.tickets())
    events += load(engine, t.timeline_events, world.ticket_events())
    events += load(engine, t.timeline_events, world.stage_events())
    counts["timeline_events"] = events
    counts["deals"] = load(engine, t.deals, world.deals())
    enrolments, mail = world.enrolments_and_mail()
    counts["enrolments"] = load(engine, t.enrolments, enrolments)
    counts["outbox"] = load(engine, t.outbox, mail)
    return counts
