"""Splitting a plain-text body into new text / quoted / signature / forwarded: quote headers in many languages,
Outlook header blocks, '>' quotes, signatures and sign-offs, forwards — one small case per rule."""

from __future__ import annotations

import pytest

from inboxcrm.core.quotes import BodyParts, split_html, split_text
from tests.core.quotes_support import Case, assert_nothing_lost, check

PRIYA = "Priya Raman <priya@globex.example>"

QUOTE_HEADERS = [
    Case(
        "english",
        f"Thanks, will do.\n\nOn Mon, Nov 2, 2026 at 9:12 AM {PRIYA} wrote:\n\n> Ship Tuesday?\n",
        "Thanks, will do.",
        quoted="On Mon, Nov 2, 2026 at 9:12 AM",
    ),
    Case(
        "english wrapped after '<'",
        "Sounds good.\n\nOn Mon, Nov 2, 2026 at 9:12 AM Priya Raman <\npriya@globex.example> wrote:\n\n> Ship?\n",
        "Sounds good.",
        quoted="On Mon, Nov 2, 2026",
    ),
    Case(
        "english wrapped before 'wrote:'",
        f"Sounds good.\n\nOn Mon, Nov 2, 2026 at 9:12 AM {PRIYA}\nwrote:\n> Ship?\n",
        "Sounds good.",
        quoted="On Mon, Nov 2, 2026",
    ),
    Case(
        "german",
        f"Passt.\n\nAm Mo., 2. Nov. 2026 um 09:12 Uhr schrieb {PRIYA}:\n> Geht Dienstag?\n",
        "Passt.",
        quoted="Am Mo., 2. Nov.",
    ),
    Case(
        "german, 'schrieb am' wrapped",
        f"Passt.\n\n{PRIYA} schrieb am Mo., 2.\nNov. 2026 um 09:12 Uhr:\n\n> Dienstag?\n",
        "Passt.",
        quoted="Priya Raman <priya@globex.example> schrieb am",
    ),
    Case(
        "french",
        f"Parfait.\n\nLe lun. 2 nov. 2026 à 09:12, {PRIYA} a écrit :\n> Mardi ?\n",
        "Parfait.",
        quoted="Le lun. 2 nov.",
    ),
    Case(
        "spanish",
        "Perfecto.\n\nEl lun, 2 nov 2026 a las 9:12, Priya Raman (<priya@globex.example>) escribió:\n> ¿El martes?\n",
        "Perfecto.",
        quoted="El lun, 2 nov",
    ),
    Case(
        "italian",
        f"Va bene.\n\nIl giorno lun 2 nov 2026 alle ore 09:12 {PRIYA} ha scritto:\n> Martedì?\n",
        "Va bene.",
        quoted="Il giorno",
    ),
    Case("dutch", f"Prima.\n\nOp ma 2 nov. 2026 om 09:12 schreef {PRIYA}:\n> Dinsdag?\n", "Prima.", quoted="Op ma"),
    Case("swedish", f"Fint.\n\nDen mån 2 nov. 2026 kl 09:12 skrev {PRIYA}:\n> Tisdag?\n", "Fint.", quoted="Den mån"),
    Case("polish", "Dobrze.\n\nW dniu 2.11.2026 o 09:12, Priya Raman pisze:\n> Wtorek?\n", "Dobrze.", quoted="W dniu"),
    Case(
        "russian",
        f"Хорошо.\n\n2 нояб. 2026 г., в 9:12, {PRIYA} написал(а):\n> Во вторник?\n",
        "Хорошо.",
        quoted="2 нояб. 2026",
    ),
    Case(
        "russian, wrapped address",
        'Hello\n02.04.2012 14:20 пользователь "bob@example.com" <\nbob@example.com> написал:\n\n> Hi\n',
        "Hello",
        quoted="02.04.2012 14:20",
    ),
    Case(
        "portuguese",
        f"Ok.\n\nEm seg., 2 de nov. de 2026 às 09:12, {PRIYA} escreveu:\n> Terça?\n",
        "Ok.",
        quoted="Em seg.",
    ),
    Case(
        "japanese",
        f"了解しました。\n\n2026年11月2日(月) 9:12 {PRIYA}:\n> 火曜日は？\n",
        "了解しました。",
        quoted="2026年11月2日",
    ),
    Case("chinese", f"好的。\n\n在 2026年11月2日 上午9:12，{PRIYA} 写道：\n> 星期二？\n", "好的。", quoted="在 2026年"),
    Case(
        "gmail dated, no verb",
        "Before\n\n2016-03-03 17:21 GMT+01:00 Some One\n\nAfter\n",
        "Before",
        quoted="2016-03-03 17:21",
    ),
    Case(
        "someone <address> wrote",
        f"Yes.\n\n{PRIYA} wrote:\n\nEarlier text, not marked with '>'.\n",
        "Yes.",
        quoted="Priya Raman <priya@globex.example> wrote:",
    ),
    Case(
        "header with no '>' after it: the rest is quoted",
        f"Third.\n\nOn Mon, Nov 2, 2026 at 9:12 AM {PRIYA} wrote:\n\nSecond.\n\nOn Sun, Nov 1, 2026 at 8:00 AM "
        f"{PRIYA} wrote:\n\nFirst.\n",
        "Third.",
        quoted="On Mon, Nov 2, 2026",
    ),
    Case(
        "no header: 'On …' in prose",
        "On Monday I wrote the spec.\nIt is done.\n",
        "On Monday I wrote the spec.\nIt is done.",
    ),
]

OUTLOOK = [
    Case(
        "outlook english",
        f"See below.\n\nFrom: {PRIYA}\nSent: Monday, November 2, 2026 9:12 AM\nTo: Ana Lima\n"
        "Subject: RE: order\n\nOld text\n",
        "See below.",
        forwarded="From: Priya Raman",
    ),
    Case(
        "outlook german",
        f"Siehe unten.\n\nVon: {PRIYA}\nGesendet: Montag, 2. November 2026 09:12\nAn: Ana Lima\n"
        "Betreff: AW: Bestellung\n\nAlter Text\n",
        "Siehe unten.",
        forwarded="Von: Priya Raman",
    ),
    Case(
        "outlook french",
        f"Voir plus bas.\n\nDe : {PRIYA}\nEnvoyé : lundi 2 novembre 2026 09:12\nÀ : Ana Lima\n"
        "Objet : RE: commande\n\nAncien texte\n",
        "Voir plus bas.",
        forwarded="De : Priya Raman",
    ),
    Case(
        "outlook italian",
        f"Vedi sotto.\n\nDa: {PRIYA}\nInviato: lunedì 2 novembre 2026 09:12\nA: Ana Lima\n"
        "Oggetto: R: ordine\n\nVecchio\n",
        "Vedi sotto.",
        forwarded="Da: Priya Raman",
    ),
    Case(
        "outlook dutch",
        f"Zie hieronder.\n\nVan: {PRIYA}\nVerzonden: maandag 2 november 2026 09:12\nAan: Ana Lima\n"
        "Onderwerp: RE: bestelling\n\nOud\n",
        "Zie hieronder.",
        forwarded="Van: Priya Raman",
    ),
    Case(
        "outlook swedish",
        f"Se nedan.\n\nFrån: {PRIYA}\nSkickat: den 2 november 2026 09:12\nTill: Ana Lima\nÄmne: SV: order\n\nGammal\n",
        "Se nedan.",
        forwarded="Från: Priya Raman",
    ),
    Case(
        "outlook bold markdown labels",
        "Reply from Outlook!\n\n ----------\n\n*From:* Outlook user\n*Sent:* 2016-01-27\n"
        "*To:* info@example.com\n*Subject:* Hello\n\nOld\n",
        "Reply from Outlook!",
        forwarded="----------",
    ),
    Case(
        "-----Original Message-----",
        "Noted.\n\n-----Original Message-----\nFrom: Priya [mailto:priya@globex.example]\n"
        "Sent: Monday\nTo: Ana\nSubject: order\n\nOld\n",
        "Noted.",
        forwarded="-----Original Message-----",
    ),
    Case(
        "-----Ursprüngliche Nachricht-----",
        "Gruß Ana\n\n-----Ursprüngliche Nachricht-----\nVon: Priya\n\nAlt\n",
        "Gruß Ana",
        forwarded="-----Ursprüngliche Nachricht-----",
    ),
    Case(
        "outlook web rule line",
        f"FYI\n\n________________________________\nFrom: {PRIYA}\nSent: Monday, November 2, 2026\n"
        "To: Ana Lima\nSubject: Broken order\n\nOur order arrived broken.\n",
        "FYI",
        forwarded="_____",
    ),
    Case("a lone 'From:' line is text", "From: the whole team, thanks!\nBye\n", "From: the whole team, thanks!\nBye"),
]

QUOTES = [
    Case(
        "bottom-posted",
        f"On Mon, Nov 2, 2026 at 9:12 AM {PRIYA} wrote:\n> Ship Tuesday?\n\nYes, Tuesday works.\n",
        "Yes, Tuesday works.",
        quoted="On Mon, Nov 2, 2026",
    ),
    Case(
        "inline replies keep the questions they answer",
        f"On Mon, Nov 2, 2026 at 9:12 AM {PRIYA} wrote:\n> Ship Tuesday?\n\nYes.\n\n> And the invoice?\n\nAttached.\n\n"
        "> Thanks, Priya\n",
        "Yes.\n\n> And the invoice?\n\nAttached.",
        quoted="On Mon, Nov 2, 2026",
    ),
    Case(
        "top-posted, quote then trailing text: the text belongs to the quote",
        f"Before.\n\nOn Mon, Nov 2, 2026 at 9:12 AM {PRIYA} wrote:\n\n> Quoted.\n\nTheir footer.\n",
        "Before.",
        quoted="On Mon, Nov 2, 2026",
    ),
    Case(
        "quote without a header",
        "Hello\n\n> Subject: Test\n> From: bob@example.com\n>\n> Hi\n",
        "Hello",
        quoted="> Subject: Test",
    ),
    Case(
        "supercite quoting",
        "Ok.\n\nOn Mon, Nov 2, 2026 at 9:12 AM, Priya wrote:\nPriya> Tuesday?\nPriya> Or not?\n",
        "Ok.",
        quoted="On Mon, Nov 2, 2026",
    ),
    Case(
        "a quoted header stays quoted",
        f"Hello\n> On 22 Aug 2015, at 19:21, {PRIYA} wrote:\n>\n> Hi there!\n",
        "Hello",
        quoted="> On 22 Aug 2015",
    ),
    Case("only a quote: it is what the sender sent", "> Email with only quote.\n", "> Email with only quote."),
    Case("'x > y' is not a quote", "x > y holds\nand y > z\n", "x > y holds\nand y > z"),
]

SIGNATURES = [
    Case(
        "'-- ' delimiter",
        "See you then.\n\n-- \nAna Lima\nNorthwind Tools\n",
        "See you then.",
        signature="-- \nAna Lima\nNorthwind Tools",
    ),
    Case(
        "'--' below the quote",
        f"Reply.\n\nOn Mon, Nov 2, 2026 at 9:12 AM {PRIYA} wrote:\n> Old\n\n--\nAna\n",
        "Reply.",
        quoted="On Mon",
        signature="--\nAna",
    ),
    Case("sent from my iPhone", "Ok\n\nSent from my iPhone\n", "Ok", signature="Sent from my iPhone"),
    Case("envoyé de mon iPhone", "D'accord\n\nEnvoyé de mon iPhone\n", "D'accord", signature="Envoyé de mon iPhone"),
    Case(
        "von meinem iPhone gesendet",
        "Gut\n\nVon meinem iPhone gesendet\n",
        "Gut",
        signature="Von meinem iPhone gesendet",
    ),
    Case("enviado desde mi iPhone", "Vale\n\nEnviado desde mi iPhone\n", "Vale", signature="Enviado desde mi iPhone"),
    Case("get outlook for iOS", "Ok\n\nGet Outlook for iOS\n", "Ok", signature="Get Outlook for iOS"),
    Case(
        "mobile footer above the quote",
        f"Hello\n\nSent from my iPhone\n\nOn Apr 3, 2012, at 4:19 PM, {PRIYA} wrote:\n\n> Hi\n",
        "Hello",
        quoted="On Apr 3, 2012",
        signature="Sent from my iPhone",
    ),
    Case(
        # issue 14: the sign-off is what the sender wrote; the device footer is the signature
        "closer and mobile footer",
        "We ship Tuesday.\n\nThanks,\nAna\n\nSent from my iPhone\n",
        "We ship Tuesday.\n\nThanks,\nAna",
        signature="Sent from my iPhone",
    ),
    Case(
        "name right above 'via mobile'",
        "Thanks, I'll look.\n\nStavros Xxxxxx\nvia mobile\n",
        "Thanks, I'll look.",
        signature="Stavros Xxxxxx\nvia mobile",
    ),
    Case(
        # issue 14: "Best regards,\nName" is kept with the text, always; the lines under it are the signature
        "best regards and a name",
        "We can ship Tuesday.\n\nBest regards,\nAna Lima\nSupport Lead\n+1 555 0100\n",
        "We can ship Tuesday.\n\nBest regards,\nAna Lima",
        signature="Support Lead\n+1 555 0100",
    ),
    Case(
        "mit freundlichen Grüßen",
        "Wir liefern Dienstag.\n\nMit freundlichen Grüßen\nAna Lima\n",
        "Wir liefern Dienstag.\n\nMit freundlichen Grüßen\nAna Lima",
    ),
    Case(
        "closer before a quote",
        f"Fine.\n\nCordialement,\nAna\n\nLe 2 nov. 2026 à 09:12, {PRIYA} a écrit :\n> ?\n",
        "Fine.\n\nCordialement,\nAna",
        quoted="Le 2 nov.",
    ),
    Case(
        "a sign-off above contact lines",
        "We can ship Tuesday.\n\nBest regards,\nAna Lima\nana@northwind.example\n+1 555 0100\n",
        "We can ship Tuesday.\n\nBest regards,\nAna Lima",
        signature="ana@northwind.example\n+1 555 0100",
    ),
    Case(
        "contact lines",
        "We can ship Tuesday.\n\nAna Lima\nana@northwind.example\n+1 555 0100\n",
        "We can ship Tuesday.",
        signature="Ana Lima\nana@northwind.example\n+1 555 0100",
    ),
    Case(
        "rule line and short lines",
        "Body text here.\n\n----------------\n\nAna Lima\n\nt. 555-931-0702\n",
        "Body text here.",
        signature="----------------\n\nAna Lima\n\nt. 555-931-0702",
    ),
    Case("decoration above the delimiter", "Text.\n\nᐧ\n--\n***\n", "Text.", signature="ᐧ\n--\n***"),
    Case(
        "a closer followed by a sentence is text",
        "Done.\n\nThanks,\nI'll check tomorrow.\n",
        "Done.\n\nThanks,\nI'll check tomorrow.",
    ),
    Case("a closer alone is text", "Done.\n\nCheers\n", "Done.\n\nCheers"),
    Case("a closer and a name are not the whole message", "Gruß Ana\n", "Gruß Ana"),
    Case("setext underline is not a signature rule", "Summary\n-------\nShort line\n", "Summary\n-------\nShort line"),
]

FORWARDS = [
    Case(
        "gmail",
        f"Can someone take this?\n\n---------- Forwarded message ---------\nFrom: {PRIYA}\n"
        "Date: Mon, 2 Nov 2026 at 09:12\nSubject: Broken order\nTo: Ana\n\nOur order arrived broken.\n",
        "Can someone take this?",
        forwarded="---------- Forwarded message ---------",
    ),
    Case(
        "gmail german",
        f"Bitte übernehmen.\n\n---------- Weitergeleitete Nachricht ---------\nVon: {PRIYA}\n\nKaputt.\n",
        "Bitte übernehmen.",
        forwarded="---------- Weitergeleitete Nachricht",
    ),
    Case(
        "apple mail",
        f"FYI\n\nBegin forwarded message:\n\nFrom: {PRIYA}\nSubject: Broken order\nDate: 2 November 2026\n"
        "To: Ana\n\nOur order arrived broken.\n",
        "FYI",
        forwarded="Begin forwarded message:",
    ),
    Case(
        "thunderbird",
        f"FYI\n\n-------- Forwarded Message --------\nSubject: \tBroken\nDate: \tMon, 2 Nov 2026\n"
        f"From: \t{PRIYA}\nTo: \tAna\n\nBroken.\n",
        "FYI",
        forwarded="-------- Forwarded Message --------",
    ),
    Case(
        "signature before the forward",
        f"FYI\n\n-- \nAna\n\n---------- Forwarded message ---------\nFrom: {PRIYA}\n\nX\n",
        "FYI",
        signature="-- \nAna",
        forwarded="---------- Forwarded message",
    ),
    Case(
        # issue 14: the forward is what the sender sent us; its marker and header block stay `forwarded`
        "nothing but a forward: the forwarded message is the new text",
        f"---------- Forwarded message ---------\nFrom: {PRIYA}\nDate: Mon\n\nBroken.\n",
        "Broken.",
        forwarded="---------- Forwarded message",
    ),
    Case(
        "a quoted forward is quoted",
        f"Ok\n\nOn Mon, Nov 2, 2026 at 9:12 AM {PRIYA} wrote:\n"
        "> ---------- Forwarded message ---------\n> From: Bob <bob@example.com>\n",
        "Ok",
        quoted="On Mon",
    ),
]


@pytest.mark.parametrize("case", QUOTE_HEADERS + OUTLOOK + QUOTES + SIGNATURES + FORWARDS, ids=lambda c: c.name)
def test_split_text(case: Case) -> None:
    result = split_text(case.body)
    check(case, result)
    assert_nothing_lost(case.body, result)


def test_windows_and_old_mac_line_endings() -> None:
    body = "Reply\r\n\r\nOn Mon, Nov 2, 2026 at 9:12 AM Bob <bob@example.com> wrote:\r\n> Old\r> older\r\n"
    result = split_text(body)
    assert result.new_text == "Reply"
    assert result.quoted == "On Mon, Nov 2, 2026 at 9:12 AM Bob <bob@example.com> wrote:\n> Old\n> older"
    assert_nothing_lost(body, result)


def test_empty_and_blank_bodies() -> None:
    assert split_text("") == BodyParts("", "", "", "")
    assert split_text(" \n\t\n") == BodyParts("", "", "", "")
    assert split_html("") == BodyParts("", "", "", "")
