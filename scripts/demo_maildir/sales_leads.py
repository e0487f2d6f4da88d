"""sales@: leads and Ben's answers. A pricing question that turns into a negotiation (Marcus Lee), a demo
request (Sarah Kim), a quote that meets an out-of-office auto-reply before the order (Dieter Braun), a
small-business lead in text+html (Laura Chen)."""

from __future__ import annotations

from .model import Mail
from .people import BEN, DIETER, LAURA, MARCUS, SALES, SARAH

MAILS: list[Mail] = [
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
