"""support@: what other languages and mail clients send. German with RFC 2047 headers and a quoted-printable
body, French in ISO-8859-1 (both written by hand, byte for byte), a customer's mail forwarded by an agent,
an HTML-only message."""

from __future__ import annotations

import quopri

from .model import Ctx, Mail
from .people import ANA, BEN, HELENE, JUERGEN, PRIYA, RACHEL, SUPPORT
from .render import date_header

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
        f"Date: {date_header(mail)}\n"
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
        f"Date: {date_header(mail)}\n"
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


MAILS: list[Mail] = [
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
]
