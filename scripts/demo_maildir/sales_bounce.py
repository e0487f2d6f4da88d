"""sales@: a bounce. Ben's reply to Kevin Wong went to a mistyped address; the Postfix delivery status
notification (written by hand) lands in sales@, and Kevin follows up in a new thread."""

from __future__ import annotations

from datetime import timedelta
from email.utils import format_datetime

from .model import Ctx, Mail, Person, digest, to_region, tz_abbrev
from .people import BEN, KEVIN, KEVIN_TYPO, MX, SALES


def raw_bounce(mail: Mail, ctx: Ctx) -> bytes:
    """A Postfix DSN: Ben's reply to Kevin went from sales@ to a mistyped address."""
    local = to_region(mail.sent, "uk")
    stamp = f"{format_datetime(local)} ({tz_abbrev(local)})"
    sent = to_region(mail.sent - timedelta(seconds=2), "uk")
    sent_stamp = f"{format_datetime(sent)} ({tz_abbrev(sent)})"
    qid = digest("qid", mail.key)[:10].upper()  # the bounce's own queue ID
    boundary = f"{qid}.{int(mail.sent.timestamp())}/{MX}"
    h = digest("bounced")  # Ben's reply that bounced (sent from sales@, so it is not in any inbox)
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


MAILS: list[Mail] = [
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
        message_id=f"<20261019155209.{digest('qid', 'l4b')[:10].upper()}@{MX}>",
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
]
