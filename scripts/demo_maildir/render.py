"""From `Mail` specs to bytes: what the author's mail client adds (Message-ID, Re: subject, In-Reply-To and
References, the quoted parent under a reply, an HTML twin for text+html mail) and what the receiving server
adds (Return-Path, Delivered-To, Received)."""

from __future__ import annotations

import html
import re
from datetime import UTC
from email import policy
from email.message import EmailMessage
from email.utils import format_datetime

from .model import Ctx, Mail, digest, to_region, tz_abbrev
from .people import MX, RELAYS


def date_header(mail: Mail) -> str:
    """The Date header: when the author sent `mail`, in the author's time zone."""
    return format_datetime(mail.sent)


def make_message_id(mail: Mail) -> str:
    if mail.message_id:
        return mail.message_id
    h = digest("mid", mail.key)
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
    msg["Date"] = date_header(mail)
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
        part.set_boundary("0000000000" + digest("boundary", mail.key, str(n))[:18])
    for part in list(msg.walk())[1:]:  # EmailMessage repeats MIME-Version in parts; clients don't
        del part["MIME-Version"]
    return msg.as_bytes(policy=policy.default)


def trace_headers(mail: Mail) -> bytes:
    """What mx.northwind.example adds when it delivers `mail` into a shared mailbox."""
    rcpt = f"{mail.folder}@northwind.example"
    local = to_region(mail.arrived, "uk")
    stamp = f"{format_datetime(local)} ({tz_abbrev(local)})"
    qid = digest("qid", mail.key)[:10].upper()
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
