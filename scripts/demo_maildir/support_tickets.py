"""support@: customers' tickets in plain English and the agents' answers. A thread reopened weeks later
(John Carter), an inline reply below a quoted excerpt (Lena Park), an invoice with a PDF attachment
(Martina Vogel), a text+html ticket nobody has answered yet (Diego Ramirez)."""

from __future__ import annotations

from .model import Mail
from .people import ANA, BEN, DIEGO, JOHN, LENA, MARTINA, SUPPORT


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
]
