#!/usr/bin/env python3
"""Write the demo Maildir shipped in demo/maildir/: the support@ and sales@ inboxes of Northwind Tools.

    python3 scripts/make_demo_maildir.py [--out DIR]

Standard library only, and deterministic: every run writes the same bytes (no clock, no randomness;
Message-IDs, MIME boundaries and delivery delays are derived from each message's key).

Each message is a `Mail` spec in MAILS below. The generator adds the parts a mail client adds (the
quoted parent under a reply, Re: subjects, In-Reply-To/References, an HTML twin for text+html mail)
and the parts the receiving server adds (Return-Path, Delivered-To, Received), then delivers the
files in arrival order into <out>/<folder>/new/ as `<unix_ts>.<n>_demo.inboxcrm,S=<size>`, so that
sorting the file names gives arrival order. Three messages whose exact bytes matter (RFC 2047
headers, an ISO-8859-1 body, a Postfix bounce) are written by hand; see the `raw_*` functions.
"""

from __future__ import annotations

import argparse
import hashlib
import html
import os
import quopri
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = ROOT / "demo" / "maildir"
FOLDERS = ("support", "sales")
MX = "mx.northwind.example"


# --------------------------------------------------------------------------------------------------
# Time zones (fixed rules for autumn 2026, so the output never depends on the host's tz database)
# --------------------------------------------------------------------------------------------------


def _offset(region: str, local: datetime) -> timezone:
    """UTC offset of `region` at naive local time `local` (Oct-Nov 2026 only)."""
    if region == "uk":  # BST until Sun 25 Oct 2026 02:00, then GMT
        return timezone(timedelta(hours=1 if local < datetime(2026, 10, 25, 2) else 0))
    if region == "eu":  # CEST until Sun 25 Oct 2026 03:00, then CET
        return timezone(timedelta(hours=2 if local < datetime(2026, 10, 25, 3) else 1))
    if region == "us":  # US Eastern: EDT until Sun 1 Nov 2026 02:00, then EST
        return timezone(timedelta(hours=-4 if local < datetime(2026, 11, 1, 2) else -5))
    raise ValueError(region)


def to_region(moment: datetime, region: str) -> datetime:
    """An aware datetime shown in `region`'s local time."""
    utc = moment.astimezone(UTC)
    # Guess with the summer offset, then correct (no demo message falls in a DST gap).
    guess = utc.astimezone(_offset(region, datetime(2026, 10, 1))).replace(tzinfo=None)
    return utc.astimezone(_offset(region, guess))


def tz_abbrev(moment: datetime) -> str:
    return {1: "BST", 0: "GMT"}[int(moment.utcoffset().total_seconds() // 3600)]  # type: ignore[union-attr]


def _h(*parts: str) -> str:
    return hashlib.sha256("\x00".join(parts).encode()).hexdigest()


# --------------------------------------------------------------------------------------------------
# People
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Person:
    name: str
    addr: str
    region: str = "us"
    client: str = "generic"  # mail client style (quoting, Message-ID): gmail|outlook|uuid|generic

    @property
    def domain(self) -> str:
        return self.addr.split("@", 1)[1]

    def address(self) -> Address:
        return Address(display_name=self.name, addr_spec=self.addr)

    def __str__(self) -> str:
        return f"{self.name} <{self.addr}>"


# Northwind Tools (the team) and its shared mailboxes
ANA = Person("Ana Lima", "ana@northwind.example", "uk", "uuid")
BEN = Person("Ben Okafor", "ben@northwind.example", "uk", "uuid")
SUPPORT = Person("Northwind Support", "support@northwind.example", "uk")
SALES = Person("Northwind Tools Sales", "sales@northwind.example", "uk")

# Customers and leads
JOHN = Person("John Carter", "john.carter@acme-corp.example", "us")
DIEGO = Person("Diego Ramirez", "diego.ramirez@acme-corp.example", "us", "outlook")
KEVIN = Person("Kevin Wong", "kevin.wong@acme-corp.example", "us")
KEVIN_TYPO = Person("Kevin Wong", "kevin.wnog@acme-corp.example", "us")  # the address that bounces
PRIYA = Person("Priya Raman", "priya.raman@globex.example", "us", "outlook")
MARCUS = Person("Marcus Lee", "marcus.lee@globex.example", "us", "outlook")
LENA = Person("Lena Park", "lena.park@initech.example", "us")
SARAH = Person("Sarah Kim", "sarah.kim@initech.example", "us", "gmail")
MARTINA = Person("Martina Vogel", "m.vogel@umbrella.example", "eu", "outlook")
DIETER = Person("Dieter Braun", "d.braun@umbrella.example", "eu", "outlook")
JUERGEN = Person("Jürgen Müller", "juergen.mueller@gmail.com", "eu", "gmail")
HELENE = Person("Hélène Dubois", "helene.dubois@outlook.com", "eu", "outlook")
RACHEL = Person("Rachel Adams", "rachel.adams@outlook.com", "us", "outlook")
LAURA = Person("Laura Chen", "laura.chen.woodshop@gmail.com", "us", "gmail")

# The host each sender's mail comes from, as the Received header shows it (documentation IPs only)
RELAYS = {
    "northwind.example": ("[10.20.0.17]", "unknown", "10.20.0.17", "ESMTPSA"),
    "acme-corp.example": ("mail.acme-corp.example", "mail.acme-corp.example", "203.0.113.24", "ESMTPS"),
    "globex.example": ("smtp.globex.example", "smtp.globex.example", "198.51.100.40", "ESMTPS"),
    "initech.example": ("mx.initech.example", "mx.initech.example", "198.51.100.73", "ESMTPS"),
    "umbrella.example": ("mail.umbrella.example", "mail.umbrella.example", "192.0.2.80", "ESMTPS"),
    "gmail.com": ("mail-sor-f41.google.com", "mail-sor-f41.google.com", "192.0.2.141", "ESMTPS"),
    "outlook.com": (
        "EUR05-AM6-obe.outbound.protection.outlook.com",
        "mail-am6eur05olkn2041.outbound.protection.outlook.com",
        "192.0.2.200",
        "ESMTPS",
    ),
}


# --------------------------------------------------------------------------------------------------
# Message specs
# --------------------------------------------------------------------------------------------------


@dataclass
class Mail:
    """One message as its author wrote it. See the module docstring for what the generator adds."""

    key: str  # short id, used for replies and to derive Message-ID etc.
    folder: str  # "support" or "sales": the shared inbox it is delivered to
    when: str  # sender's local time, "YYYY-MM-DD HH:MM[:SS]"
    sender: Person
    to: list[Person]
    body: str = ""  # plain text; `{on[key]}` inserts the reply attribution line for `key`
    subject: str | None = None  # None: "Re: " + the parent's subject
    cc: list[Person] = field(default_factory=list)
    reply_to: Person | None = None
    parent: str | None = None  # key of the message this replies to
    quote: bool = True  # replies: put the quoted parent under the text (top-posting)
    alternative: bool = False  # text/plain + a generated text/html twin
    html_only: str | None = None  # the whole body is this text/html
    attachments: list[tuple[str, str, bytes]] = field(default_factory=list)  # (filename, mime, data)
    headers: dict[str, str] = field(default_factory=dict)
    message_id: str | None = None
    delay: int | None = None  # seconds between sending and delivery; None: 1-25, from the key
    raw: Callable[[Mail, Ctx], bytes] | None = None  # hand-written message (headers + body)
    envelope_from: str | None = None  # Return-Path; None: the sender's address

    # filled in by the generator
    sent: datetime = field(init=False)
    arrived: datetime = field(init=False)
    text: str = field(init=False, default="")  # final plain text (for quoting by later replies)

    def __post_init__(self) -> None:
        fmt = "%Y-%m-%d %H:%M:%S" if self.when.count(":") == 2 else "%Y-%m-%d %H:%M"
        local = datetime.strptime(self.when, fmt)
        if fmt.endswith("%M"):
            local = local.replace(second=int(_h("sec", self.key), 16) % 60)
        self.sent = local.replace(tzinfo=_offset(self.sender.region, local))
        delay = self.delay if self.delay is not None else 1 + int(_h("delay", self.key), 16) % 25
        self.arrived = self.sent + timedelta(seconds=delay)


@dataclass
class Ctx:
    """What a message needs to know about the others."""

    mails: dict[str, Mail]
    ids: dict[str, str]
    subjects: dict[str, str]

    def refs(self, mail: Mail) -> list[str]:
        """References of `mail`: the parent's References plus the parent's Message-ID."""
        if mail.parent is None:
            return []
        return [*self.refs(self.mails[mail.parent]), self.ids[mail.parent]]


def _date(mail: Mail) -> str:
    return format_datetime(mail.sent)


def make_message_id(mail: Mail) -> str:
    if mail.message_id:
        return mail.message_id
    h = _h("mid", mail.key)
    stamp = mail.sent.astimezone(UTC).strftime("%Y%m%d%H%M%S")
    if mail.sender.client == "gmail":
        alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
        tail = "".join(alphabet[int(h[i : i + 2], 16) % 62] for i in range(0, 60, 2))
        return f"<CA+{tail}@mail.gmail.com>"
    if mail.sender.client == "outlook":
        box = "AM9P190MB" if mail.sender.region == "eu" else "BY5PR04MB"
        num = int(h[:4], 16) % 9000 + 1000
        return f"<{box}{num}{h[4:20].upper()}@{box}{num}.prod.outlook.com>"
    if mail.sender.client == "uuid":
        return f"<{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:32]}@{mail.sender.domain}>"
    return f"<{stamp}.{h[:12].upper()}@{mail.sender.domain}>"


def attribution(parent: Mail, region: str) -> str:
    """The line a mail client puts above a quoted message, in the replier's local time."""
    when = to_region(parent.sent, region)
    line = f"On {when:%a}, {when.day} {when:%b %Y} at {when:%H:%M}, {parent.sender.name} <{parent.sender.addr}> wrote:"
    if len(line) > 76:  # clients wrap a long attribution like any other line
        head, _, tail = line.rpartition(" <")
        line = f"{head}\n<{tail}"
    return line


def quote_gmail(parent: Mail, region: str) -> str:
    quoted = "\n".join(
        ">" if not ln else f"> {ln}" if not ln.startswith(">") else f">{ln}"
        for ln in parent.text.rstrip("\n").split("\n")
    )
    return f"{attribution(parent, region)}\n{quoted}\n"


def quote_outlook(parent: Mail, region: str, ctx: Ctx) -> str:
    when = to_region(parent.sent, region)
    hour = when.hour % 12 or 12
    lines = [
        "________________________________",
        f"From: {parent.sender}",
        f"Sent: {when:%A}, {when:%B} {when.day}, {when.year} {hour}:{when:%M} {when:%p}",
        f"To: {'; '.join(str(p) for p in parent.to)}",
    ]
    if parent.cc:
        lines.append(f"Cc: {'; '.join(str(p) for p in parent.cc)}")
    lines += [f"Subject: {ctx.subjects[parent.key]}", "", parent.text.rstrip("\n")]
    return "\n".join(lines) + "\n"


class _On(dict[str, str]):
    def __init__(self, ctx: Ctx, region: str) -> None:
        super().__init__()
        self.ctx, self.region = ctx, region

    def __missing__(self, key: str) -> str:
        return attribution(self.ctx.mails[key], self.region)


def html_to_text(markup: str) -> str:
    text = re.sub(r"(?is)<(head|style).*?</\1>", "", markup)
    text = re.sub(r"(?i)<br\s*/?>|</p>|</li>|</div>", "\n", text)
    text = re.sub(r"(?i)<li>", "- ", text)
    text = html.unescape(re.sub(r"<[^>]+>", "", text))
    lines = [ln.strip() for ln in text.split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip() + "\n"


def text_to_html(text: str) -> str:
    """The HTML twin of a plain-text body: paragraphs, line breaks, quoted text as blockquotes."""
    out: list[str] = []
    for block in re.split(r"\n\s*\n", text.strip("\n")):
        lines = block.split("\n")
        if all(ln.startswith(">") for ln in lines):
            inner = "\n".join(ln[1:].removeprefix(" ") for ln in lines)
            out.append(
                '<blockquote style="margin:0 0 0 .8ex;border-left:1px solid #ccc;'
                f'padding-left:1ex">\n{text_to_html(inner)}</blockquote>'
            )
        else:
            out.append("<p>" + "<br>\n".join(html.escape(ln, quote=False) for ln in lines) + "</p>")
    return "\n".join(out) + "\n"


def wrap_html(inner: str) -> str:
    return (
        '<html>\n<head>\n<meta http-equiv="Content-Type" content="text/html; charset=utf-8">\n'
        '</head>\n<body style="font-family:Arial,sans-serif;font-size:14px">\n'
        f"{inner}</body>\n</html>\n"
    )


def build(mail: Mail, ctx: Ctx) -> bytes:
    """The message as its author's client sends it (no trace headers yet)."""
    parent = ctx.mails[mail.parent] if mail.parent else None
    text = mail.body.format_map({"on": _On(ctx, mail.sender.region)}) if mail.body else ""
    if parent is not None and mail.quote:
        quoted = (
            quote_outlook(parent, mail.sender.region, ctx)
            if mail.sender.client == "outlook"
            else quote_gmail(parent, mail.sender.region)
        )
        text = f"{text.rstrip()}\n\n{quoted}"
    mail.text = text if not mail.html_only else html_to_text(mail.html_only)

    if mail.raw is not None:
        return mail.raw(mail, ctx)

    msg = EmailMessage()
    msg["From"] = mail.sender.address()
    msg["To"] = [p.address() for p in mail.to]
    if mail.cc:
        msg["Cc"] = [p.address() for p in mail.cc]
    if mail.reply_to:
        msg["Reply-To"] = mail.reply_to.address()
    msg["Subject"] = ctx.subjects[mail.key]
    msg["Date"] = _date(mail)
    msg["Message-ID"] = ctx.ids[mail.key]
    if parent is not None:
        msg["In-Reply-To"] = ctx.ids[parent.key]
        msg["References"] = " ".join(ctx.refs(mail))
    for name, value in mail.headers.items():
        msg[name] = value

    if mail.html_only:
        msg.set_content(mail.html_only, subtype="html")
    else:
        msg.set_content(text)
        if mail.alternative:
            msg.add_alternative(wrap_html(text_to_html(text)), subtype="html")
    for filename, mime, data in mail.attachments:
        maintype, subtype = mime.split("/")
        msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
    for n, part in enumerate(p for p in msg.walk() if p.is_multipart()):
        part.set_boundary("0000000000" + _h("boundary", mail.key, str(n))[:18])
    for part in list(msg.walk())[1:]:  # EmailMessage repeats MIME-Version in parts; clients don't
        del part["MIME-Version"]
    return msg.as_bytes(policy=policy.default)


def trace_headers(mail: Mail) -> bytes:
    """What mx.northwind.example adds when it delivers `mail` into a shared mailbox."""
    rcpt = f"{mail.folder}@northwind.example"
    local = to_region(mail.arrived, "uk")
    stamp = f"{format_datetime(local)} ({tz_abbrev(local)})"
    qid = _h("qid", mail.key)[:10].upper()
    envelope = mail.envelope_from if mail.envelope_from is not None else mail.sender.addr
    if envelope == "":  # a bounce is made by the server itself
        received = f"Received: by {MX} (Postfix)\n\tid {qid}; {stamp}\n"
    else:
        helo, rdns, ip, proto = RELAYS[mail.sender.domain]
        received = (
            f"Received: from {helo} ({rdns} [{ip}])\n\tby {MX} (Postfix) with {proto} id {qid}\n"
            f"\tfor <{rcpt}>; {stamp}\n"
        )
    return f"Return-Path: <{envelope}>\nDelivered-To: {rcpt}\n{received}".encode("ascii")


# --------------------------------------------------------------------------------------------------
# Hand-written messages
# --------------------------------------------------------------------------------------------------

_Q_SAFE = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789!*+-/")


def rfc2047(text: str, charset: str = "UTF-8", width: int = 60) -> str:
    """`text` as Q-encoded words (RFC 2047, phrase rules), folded so no line gets too long."""
    prefix, words, current = f"=?{charset}?Q?", [], ""
    for ch in text:
        enc = "".join("_" if b == 0x20 else chr(b) if chr(b) in _Q_SAFE else f"={b:02X}" for b in ch.encode(charset))
        if len(prefix) + len(current) + len(enc) + 2 > width:
            cut = current.rfind("_") + 1 or len(current)  # prefer to break after a space
            words.append(current[:cut])
            current = current[cut:]
        current += enc
    words.append(current)
    return "\n ".join(f"{prefix}{w}?=" for w in words)


def raw_juergen(mail: Mail, ctx: Ctx) -> bytes:
    """Gmail, German: RFC 2047 UTF-8 Q-encoded sender name and subject, quoted-printable body."""
    body = quopri.encodestring(mail.text.encode("utf-8")).decode("ascii")
    return (
        "MIME-Version: 1.0\n"
        f"Date: {_date(mail)}\n"
        f"Message-ID: {ctx.ids[mail.key]}\n"
        f"Subject: {rfc2047(ctx.subjects[mail.key])}\n"
        f"From: {rfc2047(mail.sender.name)} <{mail.sender.addr}>\n"
        f"To: {SUPPORT.addr}\n"
        'Content-Type: text/plain; charset="UTF-8"\n'
        "Content-Transfer-Encoding: quoted-printable\n"
        "\n" + body
    ).encode("ascii")


def raw_helene(mail: Mail, ctx: Ctx) -> bytes:
    """Outlook.com, French: ISO-8859-1 headers (RFC 2047) and an 8bit ISO-8859-1 body."""
    subject = ctx.subjects[mail.key]
    headers = (
        f"From: {rfc2047(mail.sender.name, 'iso-8859-1')} <{mail.sender.addr}>\n"
        f'To: "{SUPPORT.addr}" <{SUPPORT.addr}>\n'
        f"Subject: {rfc2047(subject, 'iso-8859-1')}\n"
        f"Thread-Topic: {rfc2047(subject, 'iso-8859-1')}\n"
        f"Date: {_date(mail)}\n"
        f"Message-ID: {ctx.ids[mail.key]}\n"
        "Accept-Language: fr-FR, en-US\n"
        "Content-Language: fr-FR\n"
        "X-MS-Has-Attach:\n"
        'Content-Type: text/plain; charset="iso-8859-1"\n'
        "Content-Transfer-Encoding: 8bit\n"
        "MIME-Version: 1.0\n"
        "\n"
    )
    return headers.encode("ascii") + mail.text.encode("iso-8859-1")


def raw_bounce(mail: Mail, ctx: Ctx) -> bytes:
    """A Postfix DSN: Ben's reply to Kevin went from sales@ to a mistyped address."""
    local = to_region(mail.sent, "uk")
    stamp = f"{format_datetime(local)} ({tz_abbrev(local)})"
    sent = to_region(mail.sent - timedelta(seconds=2), "uk")
    sent_stamp = f"{format_datetime(sent)} ({tz_abbrev(sent)})"
    qid = _h("qid", mail.key)[:10].upper()  # the bounce's own queue ID
    boundary = f"{qid}.{int(mail.sent.timestamp())}/{MX}"
    h = _h("bounced")  # Ben's reply that bounced (sent from sales@, so it is not in any inbox)
    original_qid = h[:10].upper()
    original_id = f"<{h[10:18]}-{h[18:22]}-{h[22:26]}-{h[26:30]}-{h[30:42]}@northwind.example>"
    kevin_id = ctx.ids["l4a"]
    rcpt = KEVIN_TYPO.addr
    return f"""\
Date: {stamp}
From: MAILER-DAEMON@{MX} (Mail Delivery System)
Subject: {ctx.subjects[mail.key]}
To: {SALES.addr}
Auto-Submitted: auto-replied
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status;
\tboundary="{boundary}"
Content-Transfer-Encoding: 8bit
Message-Id: {ctx.ids[mail.key]}

This is a MIME-encapsulated message.

--{boundary}
Content-Description: Notification
Content-Type: text/plain; charset=us-ascii

This is the mail system at host {MX}.

I'm sorry to have to inform you that your message could not
be delivered to one or more recipients. It's attached below.

For further assistance, please send mail to postmaster.

If you do so, please include this problem report. You can
delete your own text from the attached returned message.

                   The mail system

<{rcpt}>: host mx1.acme-corp.example[203.0.113.25] said:
    550 5.1.1 <{rcpt}>: Recipient address rejected: User
    unknown in virtual mailbox table (in reply to RCPT TO command)

--{boundary}
Content-Description: Delivery report
Content-Type: message/delivery-status

Reporting-MTA: dns; {MX}
X-Postfix-Queue-ID: {original_qid}
X-Postfix-Sender: rfc822; {SALES.addr}
Arrival-Date: {sent_stamp}

Final-Recipient: rfc822; {rcpt}
Original-Recipient: rfc822;{rcpt}
Action: failed
Status: 5.1.1
Remote-MTA: dns; mx1.acme-corp.example
Diagnostic-Code: smtp; 550 5.1.1 <{rcpt}>:
    Recipient address rejected: User unknown in virtual mailbox table

--{boundary}
Content-Description: Undelivered Message Headers
Content-Type: text/rfc822-headers
Content-Transfer-Encoding: 8bit

Return-Path: <{SALES.addr}>
Received: from [10.20.0.21] (unknown [10.20.0.21])
\tby {MX} (Postfix) with ESMTPSA id {original_qid}
\tfor <{rcpt}>; {sent_stamp}
From: {SALES}
To: {KEVIN_TYPO}
Subject: Re: {ctx.subjects["l4a"]}
Date: {format_datetime(sent)}
Message-ID: {original_id}
In-Reply-To: {kevin_id}
References: {kevin_id}
MIME-Version: 1.0
Content-Type: text/plain; charset=UTF-8; format=flowed
Content-Transfer-Encoding: 7bit

--{boundary}--
""".encode("ascii")


def tiny_pdf(lines: list[str]) -> bytes:
    """A small, valid one-page PDF showing `lines` (so the attachment opens in a viewer)."""
    shown = " ".join("(" + ln.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)") + ") '" for ln in lines)
    content = f"BT /F1 11 Tf 72 760 Td 16 TL {shown} ET"
    objects = [
        "<< /Type /Catalog /Pages 2 0 R >>",
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
        "/Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        f"<< /Length {len(content)} >>\nstream\n{content}\nendstream",
    ]
    out, offsets = "%PDF-1.4\n", []
    for number, obj in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n{obj}\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n"
    out += "".join(f"{offset:010d} 00000 n \n" for offset in offsets)
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n"
    return out.encode("latin-1")


INVOICE_PDF = tiny_pdf(
    [
        "Northwind Tools Ltd - INVOICE 1042",
        "Date: 30 September 2026",
        "Customer: Umbrella Industrietechnik GmbH, Hamburg",
        "VAT ID: DE 123456789",
        "25 x NW-CL80 LED work light            EUR 1,975.00",
        "Total (net)                            EUR 1,975.00",
    ]
)


# --------------------------------------------------------------------------------------------------
# The mailbox
# --------------------------------------------------------------------------------------------------

SIG_JOHN = (
    "-- \n"
    + """\
John Carter
Facilities Manager, Acme Corp
+1 555 0100 ext. 214
"""
)

MAILS: list[Mail] = [
    # ---- support@: John Carter (Acme), battery packs: 5 messages over seven weeks --------------------
    Mail(
        "s1a",
        "support",
        "2026-10-02 08:47",
        JOHN,
        [SUPPORT],
        subject="Cordless drill batteries not charging (NW-D18)",
        body="""\
Hello,

We bought twelve NW-D18 cordless drill kits in September (our PO 7781,
your order NW-58102). Three of the 18V battery packs will not charge
any more. On the charger the LED blinks red and nothing happens, even
after a few hours.

The other packs charge fine on the same chargers, so I don't think it
is the chargers.

Is there something we can try, or do we need to send them back? We
have a site job starting on 12 October and need the drills by then.

Thanks,
John Carter
Facilities Manager, Acme Corp
+1 555 0100 ext. 214
""",
    ),
    Mail(
        "s1b",
        "support",
        "2026-10-02 15:20",
        ANA,
        [JOHN],
        cc=[SUPPORT],
        parent="s1a",
        body="""\
Hi John,

Thanks for the detailed report, and sorry for the trouble.

A blinking red LED means the charger refuses the pack, usually because
it is too cold or deeply discharged. Could you try this:

1. Leave the packs at room temperature for an hour.
2. Put a pack on the charger for 30 seconds, take it off for 10
   seconds, and repeat three times.
3. Then leave it on the charger as usual.

If the LED still blinks red after that, please send me the serial
numbers from the label under each pack (they start with the batch,
e.g. 2409-xxxx) and we will replace them under warranty.

Best regards,
Ana Lima
Customer Support, Northwind Tools
""",
    ),
    # top-posted reply with a signature after "-- " and the quoted "On ..., Ana Lima <...> wrote:" block
    Mail(
        "s1c",
        "support",
        "2026-10-05 10:02",
        JOHN,
        [ANA],
        cc=[SUPPORT],
        parent="s1b",
        body="""\
Hi Ana,

Tried the steps this morning, no luck - all three still blink red.
Serials are:

  2409-1173
  2409-1188
  2409-1204

All from batch 2409, if that helps. Can you ship replacements before
the 12th?

"""
        + SIG_JOHN,
    ),
    Mail(
        "s1d",
        "support",
        "2026-10-05 16:45",
        ANA,
        [JOHN],
        cc=[SUPPORT],
        parent="s1c",
        body="""\
Hi John,

Thanks. Batch 2409 had a faulty lot of cells, so these are covered.
I've opened RMA-2026-0415 and three new packs (NW-B18, 4.0 Ah) went
out today by express. They should be with you on Wednesday 7 October,
well before your job starts.

A prepaid return label for the old packs follows in a separate email.
Please send them back within 30 days.

Best regards,
Ana
""",
    ),
    Mail(
        "s1e",
        "support",
        "2026-11-17 11:06",
        JOHN,
        [ANA],
        cc=[SUPPORT],
        parent="s1d",
        body="""\
Hi Ana,

Sorry to bring this up again. One of the replacement packs (serial
2410-0562) has started doing the same thing: blinking red on the
charger since last Friday. The other two are fine.

Should I send it back under the same RMA or open a new one?

"""
        + SIG_JOHN,
    ),
    # ---- support@: Lena Park (Initech), missing parts; her reply is inline, not top-posted --------
    Mail(
        "s2a",
        "support",
        "2026-10-07 11:30",
        LENA,
        [SUPPORT],
        subject="Order #58213 arrived with missing parts",
        body="""\
Hi,

Our order #58213 arrived today. It should contain 4 x NW-WC200
workbench clamps, but two of the clamps are missing the quick-release
lever - the pins are there, the levers are not. The packaging looked
intact.

Could you send the two missing levers? We don't need to return the
clamps, they're otherwise fine.

Best,
Lena Park
Operations Coordinator
Initech
""",
    ),
    Mail(
        "s2b",
        "support",
        "2026-10-07 17:05",
        BEN,
        [LENA],
        cc=[SUPPORT],
        parent="s2a",
        body="""\
Hi Lena,

Sorry about that - it sounds like a packing error on our side. I'll
send two NW-WC200 quick-release lever kits free of charge.

Can you confirm the delivery address? Our system has:

  Initech, Attn: Lena Park
  1800 Polaris Parkway, Suite 300
  Columbus, OH 43240

Thanks,
Ben Okafor
Northwind Tools
""",
    ),
    Mail(
        "s2c",
        "support",
        "2026-10-08 09:12",
        LENA,
        [BEN],
        cc=[SUPPORT],
        parent="s2b",
        quote=False,
        body="""\
Hi Ben,

{on[s2b]}
> Can you confirm the delivery address? Our system has:
>
>   Initech, Attn: Lena Park
>   1800 Polaris Parkway, Suite 300
>   Columbus, OH 43240

Almost - we moved to Suite 410 in August. Could you use that?

Thanks!
Lena
""",
    ),
    Mail(
        "s2d",
        "support",
        "2026-10-08 14:40",
        BEN,
        [LENA],
        cc=[SUPPORT],
        parent="s2c",
        body="""\
Hi Lena,

Done - two lever kits are on their way to Suite 410, tracking number
1Z 999 AA1 01 2345 6784 (UPS Ground, expected Monday 12 October).
I've also updated the address on your account.

Best,
Ben
""",
    ),
    # ---- support@: Martina Vogel (Umbrella), invoice with a PDF attachment -------------------------
    Mail(
        "s3a",
        "support",
        "2026-10-12 10:15",
        MARTINA,
        [SUPPORT],
        subject="Invoice 1042 - wrong VAT ID",
        attachments=[("invoice-1042.pdf", "application/pdf", INVOICE_PDF)],
        body="""\
Dear Northwind Tools team,

Please find attached invoice 1042 dated 30 September 2026. The VAT ID
on the invoice (DE 123456789) is our old one. Since 1 July our VAT ID
is DE 987654321, as we told your accounts team in June.

We cannot book the invoice with the wrong VAT ID. Could you please
send a corrected invoice? Payment will follow within our usual 30 days
once we have it.

Kind regards,
Martina Vogel
Accounts Payable
Umbrella Industrietechnik GmbH
Hafenstrasse 12, 20457 Hamburg
""",
    ),
    Mail(
        "s3b",
        "support",
        "2026-10-12 14:30",
        ANA,
        [MARTINA],
        cc=[SUPPORT],
        parent="s3a",
        body="""\
Dear Martina,

Thank you - you are right, our customer record still had the old VAT
ID. I have updated it and asked our finance team to issue a corrected
invoice (1042-C) with VAT ID DE 987654321. You should have it by
Wednesday.

Apologies for the extra work.

Kind regards,
Ana Lima
Customer Support, Northwind Tools
""",
    ),
    # ---- support@: Jürgen Müller (gmail), German, RFC 2047 headers (hand-written) ------------------
    Mail(
        "s4a",
        "support",
        "2026-10-14 19:48",
        JUERGEN,
        [SUPPORT],
        raw=raw_juergen,
        subject="Rückfrage zur Garantie – Akkuschrauber NW-D18",
        body="""\
Guten Tag,

ich habe im März 2025 bei Ihnen einen Akkuschrauber NW-D18 gekauft
(Rechnung Nr. 2025-0318). Seit letzter Woche läuft der Motor nur noch
stotternd, und das Getriebe macht ein knirschendes Geräusch.

Fällt das noch unter die Garantie? Und wohin muss ich das Gerät
schicken? Ich wohne in Köln.

Vielen Dank und freundliche Grüße
Jürgen Müller
""",
    ),
    Mail(
        "s4b",
        "support",
        "2026-10-15 09:30",
        ANA,
        [JUERGEN],
        cc=[SUPPORT],
        parent="s4a",
        body="""\
Sehr geehrter Herr Müller,

vielen Dank für Ihre Nachricht. Der NW-D18 hat drei Jahre Garantie,
Ihr Gerät ist also noch abgedeckt.

Bitte schicken Sie den Akkuschrauber ohne Akku an unser Servicezentrum:

  Northwind Tools Service
  Industriestraße 8
  50829 Köln

Legen Sie bitte eine Kopie der Rechnung bei. Die Reparatur dauert in
der Regel 5 bis 7 Werktage.

Mit freundlichen Grüßen
Ana Lima
Kundenservice, Northwind Tools
""",
    ),
    # ---- support@: Hélène Dubois (outlook.com), French, ISO-8859-1 (hand-written) -------------------
    Mail(
        "s5a",
        "support",
        "2026-10-20 08:05",
        HELENE,
        [SUPPORT],
        raw=raw_helene,
        subject="Problème de livraison - commande n° 58877",
        body="""\
Bonjour,

J'ai commandé une scie sauteuse NW-JS65 le 12 octobre (commande
n° 58877). Le suivi indique « livré » depuis vendredi, mais je n'ai
rien reçu. Ni la gardienne ni mes voisins n'ont vu le colis.

Pourriez-vous vérifier auprès du transporteur ? Sinon, est-il possible
de renvoyer la commande ?

Merci d'avance,
Hélène Dubois
Lyon
""",
    ),
    Mail(
        "s5b",
        "support",
        "2026-10-20 11:40",
        ANA,
        [HELENE],
        cc=[SUPPORT],
        parent="s5a",
        body="""\
Bonjour Madame Dubois,

Merci pour votre message. J'ai ouvert une enquête auprès du
transporteur (référence DPD 0987 6543 2109). Il nous répond en général
sous 48 heures.

Si le colis n'est pas retrouvé d'ici jeudi, nous vous renverrons la
scie sauteuse sans frais.

Bien cordialement,
Ana Lima
Service client, Northwind Tools
""",
    ),
    # ---- support@: Ana forwards a Globex customer's mail (Gmail-style forward), Ben takes it --------
    Mail(
        "s6a",
        "support",
        "2026-10-22 08:31",
        ANA,
        [SUPPORT],
        alternative=True,
        subject="Fwd: Torque wrench calibration certificates missing",
        body="""\
Hi team,

Priya Raman from Globex sent this to me directly - can one of you pick
it up? She needs the certificates before their audit on Friday.

Thanks,
Ana

---------- Forwarded message ---------
From: Priya Raman <priya.raman@globex.example>
Date: Wed, 21 Oct 2026 at 21:55
Subject: Torque wrench calibration certificates missing
To: Ana Lima <ana@northwind.example>


Hi Ana,

Hope you're well. We received the 20 NW-TW340 torque wrenches (order
GX-20931) last week, but the calibration certificates were not in the
boxes, and they are not in the customer portal either. Our ISO 9001
surveillance audit is on Friday 23 October and the auditor will ask
for them.

Could you send the certificates (PDF is fine) for all 20 serial
numbers? They run from TW-3301-0441 to TW-3301-0460.

Many thanks,
Priya

Priya Raman
Quality Engineer, Globex Corporation
+1 555 0142
""",
    ),
    Mail(
        "s6b",
        "support",
        "2026-10-22 10:10",
        BEN,
        [PRIYA],
        cc=[ANA, SUPPORT],
        parent="s6a",
        quote=False,
        subject="Re: Torque wrench calibration certificates missing",
        body="""\
Hi Priya,

Ana passed your message on to us. I've uploaded the calibration
certificates for order GX-20931 to the customer portal (Orders >
GX-20931 > Documents), one PDF per serial number.

Sorry they weren't in the boxes - the lab sent them after the wrenches
had shipped. Good luck with the audit!

Best regards,
Ben Okafor
Northwind Tools
""",
    ),
    Mail(
        "s6c",
        "support",
        "2026-10-22 09:02",
        PRIYA,
        [BEN],
        cc=[ANA, SUPPORT],
        parent="s6b",
        body="""\
Hi Ben,

Thank you, that was quick. I can see 19 certificates in the portal,
but the one for TW-3301-0457 is missing. Could you check? We need it
before 10:00 tomorrow (Eastern).

Thanks,
Priya

Priya Raman
Quality Engineer, Globex Corporation
+1 555 0142
""",
    ),
    # ---- support@: Rachel Adams (outlook.com), an HTML-only message -------------------------------
    Mail(
        "s7a",
        "support",
        "2026-10-27 21:14",
        RACHEL,
        [SUPPORT],
        subject="Angle grinder guard won't lock in place",
        html_only="""\
<html>
<head>
<meta http-equiv="Content-Type" content="text/html; charset=utf-8">
</head>
<body dir="ltr">
<div style="font-family:Calibri,Arial,Helvetica,sans-serif;font-size:12pt">
<p>Hello,</p>
<p>I bought an <b>NW-AG115</b> angle grinder from your web shop two weeks
ago (order 59012). Since yesterday the wheel guard won&#39;t lock in place
any more:</p>
<ul>
<li>the guard turns freely when the grinder is running</li>
<li>the locking lever feels loose and doesn&#39;t snap back</li>
</ul>
<p>I&#39;ve stopped using it because it doesn&#39;t feel safe. Can you send
a replacement guard, or should I return the whole grinder?</p>
<p>Thanks,<br>
Rachel Adams</p>
</div>
</body>
</html>
""",
    ),
    Mail(
        "s7b",
        "support",
        "2026-10-28 10:05",
        ANA,
        [RACHEL],
        cc=[SUPPORT],
        parent="s7a",
        alternative=True,
        body="""\
Hi Rachel,

You're right to stop using it - thank you for being careful.

A loose locking lever usually means its spring has broken. I've sent
you a complete replacement guard (part NW-AG115-G) by first-class
post; fitting it takes two minutes and needs no tools. If the new guard
doesn't lock either, we will swap the grinder.

Best regards,
Ana Lima
Customer Support, Northwind Tools
""",
    ),
    # ---- support@: Diego Ramirez (Acme), text+html, not answered yet ------------------------------
    Mail(
        "s8a",
        "support",
        "2026-11-03 13:22",
        DIEGO,
        [SUPPORT],
        alternative=True,
        subject="Replacement blades for NW-CS450 circular saw",
        body="""\
Hi support,

We need 10 replacement blades for the NW-CS450 circular saws in our
workshop (190 mm, 24 teeth). Your web shop only lists the 40-tooth
blade. Is the 24-tooth one still available, and can we order it
through our Acme account?

Regards,
Diego Ramirez
Workshop Lead, Acme Corp
""",
    ),
    # ---- sales@: Marcus Lee (Globex), volume pricing -------------------------------------------------
    Mail(
        "l1a",
        "sales",
        "2026-10-01 14:10",
        MARCUS,
        [SALES],
        subject="Volume pricing for 40 NW-D18 drill kits",
        body="""\
Hello,

Globex is standardising the cordless tools at our three maintenance
sites. We're looking at around 40 NW-D18 drill kits (2 batteries and
a charger each), delivered to Springfield, IL.

Could you send us volume pricing and delivery lead times? We'd also be
interested in an extended warranty or a service agreement.

Best regards,
Marcus Lee
Procurement Manager, Globex Corporation
+1 555 0187
""",
    ),
    Mail(
        "l1b",
        "sales",
        "2026-10-02 09:25",
        BEN,
        [MARCUS],
        cc=[SALES],
        parent="l1a",
        body="""\
Hi Marcus,

Thanks for thinking of Northwind Tools. Here is our volume pricing for
the NW-D18 kit (2 x 4.0 Ah batteries, charger, case):

  Quantity    Unit price (USD)
  1-9         289.00
  10-49       259.00
  50+         239.00

For 40 kits that is USD 10,360.00 excluding tax, with free delivery to
your sites. Lead time is currently two weeks.

Our 3-year service plan adds USD 24.00 per kit and covers batteries,
chargers and a yearly inspection.

It's all in quote Q-2026-0311 (valid until 1 November). Happy to set
up a call if that helps.

Best regards,
Ben Okafor
Sales, Northwind Tools
+44 20 7946 0321
""",
    ),
    Mail(
        "l1c",
        "sales",
        "2026-10-06 16:40",
        MARCUS,
        [BEN],
        cc=[SALES],
        parent="l1b",
        subject="RE: Volume pricing for 40 NW-D18 drill kits",
        body="""\
Thanks Ben, that's helpful.

We may add a fourth site. If we go to 60 kits at the 50+ price, with
the service plan, could you do net 45 payment terms? Our finance team
doesn't approve net 30 for new suppliers.

Best regards,
Marcus
""",
    ),
    # ---- sales@: Sarah Kim (Initech), demo request ---------------------------------------------------
    Mail(
        "l2a",
        "sales",
        "2026-10-09 12:02",
        SARAH,
        [SALES],
        alternative=True,
        subject="Demo request: NW ToolTrack for our maintenance crew",
        body="""\
Hi,

I saw NW ToolTrack at the Midwest Facilities Expo. We have around 300
power tools spread over two buildings and keep losing track of who has
what.

Could we get a 30-minute demo for me and two of my supervisors next
week? Tuesday or Wednesday afternoons work best (Eastern time).

Thanks,
Sarah Kim
Maintenance Manager, Initech
""",
    ),
    Mail(
        "l2b",
        "sales",
        "2026-10-09 17:48",
        BEN,
        [SARAH],
        cc=[SALES],
        parent="l2a",
        body="""\
Hi Sarah,

Thanks for stopping by our stand! Happy to show you ToolTrack. These
slots are free next week:

  Tuesday 13 October, 2:00 pm or 3:30 pm EDT
  Wednesday 14 October, 2:00 pm EDT

The demo runs in the browser, nothing to install. If you can, tell me
roughly how your tools are stored today (cages, vans, shelves?) and I
will set up the demo data to match.

Best regards,
Ben Okafor
Sales, Northwind Tools
""",
    ),
    Mail(
        "l2c",
        "sales",
        "2026-10-12 09:05",
        SARAH,
        [BEN],
        cc=[SALES],
        parent="l2b",
        body="""\
Hi Ben,

Wednesday 14 October at 2:00 pm EDT works for us. Please send the
invite to me, Tom Rhodes (tom.rhodes@initech.example) and Maria Gomez
(maria.gomez@initech.example).

Most tools live in two locked cages, one per building, plus about 40
in the vans.

Thanks,
Sarah
""",
    ),
    # ---- sales@: Dieter Braun (Umbrella), quote -> out-of-office auto-reply -> order ---------------
    Mail(
        "l3a",
        "sales",
        "2026-10-16 09:40",
        DIETER,
        [SALES],
        subject="Quote request: 25 workshop tool sets (NW-WS100)",
        body="""\
Hello,

for our new apprentice workshop in Hamburg we need 25 tool sets
NW-WS100 (the 120-piece set in the rolling case).

Please send us a quote including delivery to Hamburg (DAP), and let us
know the delivery time. We need the sets by the end of November.

Best regards
Dieter Braun
Head of Purchasing
Umbrella Industrietechnik GmbH
""",
    ),
    Mail(
        "l3b",
        "sales",
        "2026-10-16 15:05:03",
        BEN,
        [DIETER],
        cc=[SALES],
        reply_to=SALES,
        parent="l3a",
        body="""\
Dear Mr Braun,

Thank you for your enquiry. Our quote Q-2026-0334:

  25 x NW-WS100 workshop tool set   EUR 412.00   EUR 10,300.00
  Delivery DAP Hamburg                            included
  Total (net, excl. VAT)                          EUR 10,300.00

Delivery time is three weeks from order, so the end of November is no
problem. The quote is valid until 15 November 2026.

Kind regards,
Ben Okafor
Sales, Northwind Tools
+44 20 7946 0321
""",
    ),
    Mail(
        "l3c",
        "sales",
        "2026-10-16 16:05:40",
        DIETER,
        [SALES],
        parent="l3b",
        quote=False,
        subject="Out of Office: Re: Quote request: 25 workshop tool sets (NW-WS100)",
        headers={"Auto-Submitted": "auto-replied", "X-Auto-Response-Suppress": "All", "Content-Language": "de-DE"},
        body="""\
Vielen Dank für Ihre Nachricht. Ich bin bis einschließlich 23. Oktober
2026 nicht im Büro und habe nur eingeschränkt Zugriff auf meine
E-Mails. In dringenden Fällen wenden Sie sich bitte an Sabine Krüger
(s.krueger@umbrella.example, +49 40 555 0123).

Thank you for your message. I am out of the office until 23 October
2026 with limited access to email. For urgent matters please contact
Sabine Krüger (s.krueger@umbrella.example, +49 40 555 0123).

Dieter Braun
""",
    ),
    Mail(
        "l3d",
        "sales",
        "2026-10-27 08:50",
        DIETER,
        [SALES],
        parent="l3b",
        subject="RE: Quote request: 25 workshop tool sets (NW-WS100)",
        body="""\
Dear Mr Okafor,

thank you for the quote, and sorry for the late answer - I was on
holiday.

We would like to order the 25 sets under quote Q-2026-0334. Our
purchase order UIT-PO-2026-1187 follows by separate email from our
purchasing system. Delivery address:

  Umbrella Industrietechnik GmbH
  Ausbildungswerkstatt
  Hafenstrasse 14
  20457 Hamburg

Best regards
Dieter Braun
Head of Purchasing
Umbrella Industrietechnik GmbH
""",
    ),
    Mail(
        "l3e",
        "sales",
        "2026-10-27 11:20",
        BEN,
        [DIETER],
        cc=[SALES],
        parent="l3d",
        body="""\
Dear Mr Braun,

Thank you for your order! As soon as PO UIT-PO-2026-1187 arrives I
will send the order confirmation. Delivery is planned for week 47
(16-20 November) to the Ausbildungswerkstatt.

Kind regards,
Ben Okafor
Sales, Northwind Tools
""",
    ),
    # ---- sales@: Kevin Wong (Acme), reseller pricing; the reply bounced (typo), he follows up -------
    Mail(
        "l4a",
        "sales",
        "2026-10-19 10:30",
        KEVIN,
        [SALES],
        subject="Reseller pricing for Northwind power tools",
        body="""\
Hi,

Besides our own facilities, Acme runs a small trade counter for local
contractors. We'd like to stock a selection of Northwind power tools
(drills, grinders, saws).

Do you have a reseller programme, and what discounts and minimum order
quantities apply?

Thanks,
Kevin Wong
Purchasing, Acme Corp
""",
    ),
    Mail(
        "l4b",
        "sales",
        "2026-10-19 16:52:09",
        Person("Mail Delivery System", f"MAILER-DAEMON@{MX}", "uk"),
        [SALES],
        raw=raw_bounce,
        delay=0,
        envelope_from="",
        subject="Undelivered Mail Returned to Sender",
        message_id=f"<20261019155209.{_h('qid', 'l4b')[:10].upper()}@{MX}>",
    ),
    Mail(
        "l4c",
        "sales",
        "2026-10-23 09:15",
        KEVIN,
        [SALES],
        subject="Following up: reseller pricing",
        body="""\
Hi again,

I wrote to you on Monday about your reseller programme but haven't
heard back. Did my message reach you? We're finalising our supplier
list next week.

Kevin Wong
Purchasing, Acme Corp
""",
    ),
    Mail(
        "l4d",
        "sales",
        "2026-10-23 14:40",
        BEN,
        [KEVIN],
        cc=[SALES],
        parent="l4c",
        body="""\
Hi Kevin,

Apologies - I did reply on Monday, but I mistyped your address and the
message bounced. Here it is again:

Our reseller programme has three tiers, based on yearly purchases:

  Bronze  from USD 5,000    20% off list price
  Silver  from USD 15,000   25% off list price
  Gold    from USD 40,000   30% off list, plus co-op marketing funds

The minimum order is USD 1,000, and shipping is free above USD 2,500.
I'll send the application form separately; approval usually takes two
working days.

Best regards,
Ben Okafor
Sales, Northwind Tools
+44 20 7946 0321
""",
    ),
    # ---- sales@: Laura Chen (gmail), small-business lead, text+html ---------------------------------
    Mail(
        "l5a",
        "sales",
        "2026-11-05 20:18",
        LAURA,
        [SALES],
        alternative=True,
        subject="Pricing for a small workshop (3 people)?",
        body="""\
Hi there,

I run a small furniture workshop with two employees. We're replacing
our old corded tools and like the look of your 18V range. Do you have
bundle pricing for small businesses? We'd need 3 drills, 2 circular
saws, a jigsaw and an angle grinder, ideally sharing batteries.

Also, do you ship to Portland, Maine?

Thanks!
Laura Chen
Chen & Daughters Woodworking
""",
    ),
    Mail(
        "l5b",
        "sales",
        "2026-11-06 10:02",
        BEN,
        [LAURA],
        cc=[SALES],
        parent="l5a",
        body="""\
Hi Laura,

Great to hear from you. Our Workshop Starter Bundle fits almost
exactly:

  3 x NW-D18 drill, 2 x NW-CS450 circular saw, 1 x NW-JS65 jigsaw,
  1 x NW-AG115 angle grinder, 6 x 4.0 Ah batteries, 3 chargers

Bundle price USD 2,140.00 (USD 2,533.00 if bought separately). All
tools use the same 18V batteries. We ship to Maine in 3-5 working
days, free of charge.

Would you like me to send a formal quote?

Best regards,
Ben Okafor
Sales, Northwind Tools
""",
    ),
]


# --------------------------------------------------------------------------------------------------
# Writing the Maildir
# --------------------------------------------------------------------------------------------------


def render(mails: list[Mail]) -> list[tuple[Mail, bytes]]:
    """Every message's bytes (trace headers included), in arrival order."""
    by_key = {m.key: m for m in mails}
    assert len(by_key) == len(mails), "duplicate keys"
    ctx = Ctx(by_key, {m.key: make_message_id(m) for m in mails}, {})
    rendered: dict[str, bytes] = {}
    for m in sorted(mails, key=lambda m: m.sent):  # parents before replies, for subjects and quotes
        if m.parent:
            assert by_key[m.parent].sent < m.sent, f"{m.key} is sent before its parent"
            root = re.sub(r"^((re|fwd|aw):\s*)+", "", ctx.subjects[m.parent], flags=re.IGNORECASE)
            ctx.subjects[m.key] = m.subject or f"Re: {root}"
        else:
            assert m.subject, f"{m.key} needs a subject"
            ctx.subjects[m.key] = m.subject
        rendered[m.key] = trace_headers(m) + build(m, ctx)
    return [(m, rendered[m.key]) for m in sorted(mails, key=lambda m: m.arrived)]


def write_maildir(out: Path, mails: list[Mail]) -> list[Path]:
    rendered = render(mails)
    stamps = [int(m.arrived.timestamp()) for m, _ in rendered]
    assert len(set(stamps)) == len(stamps), "two messages arrive in the same second"
    for folder in FOLDERS:
        for sub in ("cur", "new", "tmp"):
            (out / folder / sub).mkdir(parents=True, exist_ok=True)
        (out / folder / "tmp" / ".gitkeep").touch()
        for old in (out / folder / "new").glob("*_demo.inboxcrm*"):  # only what this script wrote
            old.unlink()
    written = []
    for n, (mail, data) in enumerate(rendered, start=1):
        assert b"\r" not in data
        ts = int(mail.arrived.timestamp())
        path = out / mail.folder / "new" / f"{ts}.{n}_demo.inboxcrm,S={len(data)}"
        path.write_bytes(data)
        os.utime(path, (ts, ts))
        written.append(path)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"Maildir root (default: {DEFAULT_OUT})")
    args = parser.parse_args(argv)
    written = write_maildir(args.out, MAILS)
    for folder in FOLDERS:
        count = sum(1 for p in written if p.parent.parent.name == folder)
        print(f"{args.out / folder}: {count} messages")
    return 0


if __name__ == "__main__":
    sys.exit(main())
