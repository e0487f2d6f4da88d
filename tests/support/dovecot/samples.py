"""Realistic test mail for a private Dovecot (or any mailbox): `sample_messages` makes distinct messages from
a handful of people and topics, the same ones for the same arguments, some multipart, some replies."""

from __future__ import annotations

import email.utils
import random
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.policy import SMTP

_PEOPLE = [
    ("Carol Danvers", "acme-corp.example"),
    ("Bruce Wayne", "wayne-enterprises.example"),
    ("Zoë Løvås", "fjord-shipping.example"),
    ("Hiro Tanaka", "tanaka-robotics.example"),
    ("Amélie Poulain", "cafe-deux-moulins.example"),
    ("Olu Adeyemi", "lagos-logistics.example"),
    ("Marta Kowalska", "baltic-bakery.example"),
    ("Diego Ramírez", "andes-outdoor.example"),
]
_TOPICS = [
    "Invoice {n} is missing a PO number",
    "Cannot log in after the password reset",
    "Quote request: {n} seats for next quarter",
    "Delivery {n} arrived damaged",
    "Question about the API rate limits",
    "Renewal of contract {n}",
    "Feature request: export to CSV",
    "Urgent: production outage since {n}:00",
]
_LINES = [
    "Could you have a look at this when you get a chance?",
    "We tried again this morning and got the same result.",
    "I attached nothing, but I can send screenshots if that helps.",
    "Our finance team needs this sorted before the end of the month.",
    "Thanks for the quick answer last time — much appreciated.",
    "Is there a workaround we can use in the meantime?",
]


def _author(seed: int, n: int) -> tuple[str, str]:
    return random.Random(f"author:{seed}:{n}").choice(_PEOPLE)


def _message_id(seed: int, n: int) -> str:
    _, domain = _author(seed, n)
    return f"<s{seed}.m{n}.{random.Random(f'id:{seed}:{n}').getrandbits(32):08x}@{domain}>"


def sample_messages(count: int, seed: int = 0, start: int = 0, to: str = "support@northwind.example") -> list[bytes]:
    """`count` distinct, realistic messages (CRLF line ends, unique Message-IDs), the same for the same
    arguments: numbers `start` … `start + count - 1` of the sequence for `seed`, so a later call with a
    higher `start` never collides with an earlier one. About one in four is multipart with an HTML
    part, about one in five replies to an earlier message of the same call."""
    out = []
    first_date = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
    for n in range(start, start + count):
        rng = random.Random(f"body:{seed}:{n}")
        name, domain = _author(seed, n)
        local = name.split()[0].lower().replace("ë", "e").replace("é", "e")
        message = EmailMessage(policy=SMTP)
        message["From"] = email.utils.formataddr((name, f"{local}@{domain}"))
        message["To"] = to
        subject = rng.choice(_TOPICS).format(n=1000 + n)
        message["Date"] = email.utils.format_datetime(first_date + timedelta(minutes=7 * n))
        message["Message-ID"] = _message_id(seed, n)
        if n > start and rng.random() < 0.2:
            parent = _message_id(seed, rng.randrange(start, n))
            subject = f"Re: {subject}"
            message["In-Reply-To"] = parent
            message["References"] = parent
        message["Subject"] = subject
        body = "Hello team,\n\n" + "\n".join(rng.sample(_LINES, 3)) + f"\n\nBest regards,\n{name}\n"
        message.set_content(body)
        if rng.random() < 0.25:
            html = "".join(f"<p>{part}</p>" for part in body.split("\n\n"))
            message.add_alternative(f"<html><body>{html}</body></html>", subtype="html")
        out.append(message.as_bytes())
    return out
