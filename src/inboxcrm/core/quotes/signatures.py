"""The sender's signature: a "-- " delimiter, a mobile footer, a rule line, a closer with a name, contact lines."""

from __future__ import annotations

import re
from collections.abc import Sequence

from inboxcrm.core.quotes.lines import BLANK, DECOR, DELIM, HEADER, LABEL_LIKE_RE, MAX_SHORT_LINE, QUOTE, TEXT, URL_RE

# Device and app footers ("Sent from my iPhone"), in the languages phones and mail apps are set to. Each
# names a device, an app or "my …", so a line of prose rarely matches in full (`fullmatch`, ≤ 120 chars).
_APPS = (
    r"(?:outlook|yahoo|gmail|aol|mail\s+(?:for|für|pour|para|per)\s+windows|courrier|correo|e-?mail|samsung"
    r"|android|iphone|ipad|ios|blackberry|bluemail|spark|airmail|huawei|xiaomi|galaxy|gmx|web\.de|t-online|libero"
    r"|orange|proton\s*mail|zoho|mi\s|meu\s|o\s+meu\s|my\s|mon\s|ma\s|mes\s|l'appli)"
)
_MOBILE_RE = re.compile(
    r"[\s(<*_-]*(?:"
    r"sent\s+(?:from|via|with|by|using|on)\s+\S.{0,60}"
    r"|(?:get|download)\s+outlook\s+for\s+\S.{0,30}"
    r"|(?:obtenir|obtener|obter\s+o|ottieni|scarica|holen\s+sie\s+sich|hol\s+dir|hämta|hent|pobierz|descarga"
    r"|télécharge[rz]?|загрузите|скачайте)\s+(?:das\s+|le\s+)?outlook\s+\S+\s+\S.{0,20}"
    r"|outlook\s+(?:für|voor|pour|para|per)\s+\S+\s+(?:herunterladen|downloaden|télécharger|baixar)"
    r"|(?:sent\s+)?(?:via|from)\s+(?:my\s+|a\s+)?(?:mobile|phone|cell(?:phone)?|smartphone)(?:\s+device)?"
    r"|\w+\s+from\s+mobile"
    r"|from\s+my\s+(?:iphone|ipad|android|samsung|galaxy|mobile|phone|blackberry|smartphone)\b.{0,30}"
    r"|envoyé\s+(?:de|depuis|à\s+partir\s+de|avec|via)\s+" + _APPS + r".{0,60}"
    r"|von\s+meinem\s+.{1,40}\s+gesendet|gesendet\s+(?:von|mit|vom|über)\s+.{1,60}"
    r"|diese\s+nachricht\s+wurde\s+von\s+.{1,80}\s+gesendet"
    r"|enviad[oa]\s+(?:desde|do|de|a\s+partir\s+do|com|con|via|pelo)\s+" + _APPS + r".{0,60}"
    r"|enviat\s+des\s+del?\s+.{1,60}"
    r"|inviato\s+(?:da|dal|dall'|dalla|con|tramite)\s*.{1,60}"
    r"|(?:verzonden|verstuurd)\s+(?:vanaf|met|van|via)\s+(?:mijn\s+)?.{1,60}"
    r"|skickat\s+från\s+.{1,60}|sendt\s+fra\s+.{1,60}|sent\s+úr\s+.{1,60}|lähetetty\s+.{1,40}(?:sta|stä|lla)"
    r"|wysłan[eo]\s+z\s+.{1,60}|odesláno\s+z\s+.{1,60}|odoslané\s+z\s+.{1,60}"
    r"|poslan[oa]\s+(?:s|sa|z|iz)\s+.{1,60}|poslato\s+sa\s+.{1,60}|trimis\s+de\s+pe\s+.{1,60}"
    r"|.{1,40}(?:ról|ről)\s+küldve|küldve\s+.{1,40}(?:ról|ről)"
    r"|.{1,40}(?:dan|den|tan|ten)\s+gönderildi|.{1,40}\s+tarafından\s+gönderildi"
    r"|отправлено\s+(?:с|из|со)\s+.{1,60}|надіслано\s+з\s+.{1,60}|στάλθηκε\s+από\s+.{1,60}"
    r"|saadetud\s+.{1,60}|nosūtīts\s+no\s+.{1,60}|išsiųsta\s+iš\s+.{1,60}"
    r"|dikirim\s+dari\s+.{1,60}|dihantar\s+dari\s+.{1,60}|gửi\s+từ\s+.{1,60}|ส่งจาก\s*.{1,60}"
    r"|נשלח\s+מ.{1,60}|(?:أرسلت|أُرسلت|ارسلت|مرسل)\s+من\s+.{1,60}"
    r"|.{0,20}から送信|.{1,40}에서\s*보냄|发自我的.{1,30}|從我的.{1,30}傳送|从我的.{1,30}发送|来自我的.{1,30}"
    r")[\s)>*_.!]*",
    re.I,
)

_CLOSER_RE = re.compile(
    r"(?:"
    r"(?:many\s+|big\s+|warm(?:est)?\s+)?thanks?(?:\s+(?:a\s+lot|again|so\s+much|very\s+much|in\s+advance|"
    r"and\s+regards|&\s+regards))?"
    r"|thank\s+you(?:\s+(?:very\s+much|so\s+much|again|in\s+advance|kindly))?|thx|tia"
    r"|(?:(?:best|kind|kindest|warm|warmest|many|sincere|with\s+(?:kind|best|warm))\s+)?regards"
    r"|(?:best|warm|warmest|kind)\s+wishes|all\s+the\s+best|best|cheers|sincerely(?:\s+yours)?"
    r"|yours(?:\s+(?:sincerely|truly|faithfully))?|respectfully|take\s+care|talk\s+soon|cordially|rgds"
    r"|(?:mit\s+)?(?:freundlichen|besten|lieben|herzlichen|vielen)\s+grü(?:ß|ss)en"
    r"|(?:viele|beste|liebe|herzliche|schöne)\s+grü(?:ß|ss)e|grü(?:ß|ss)e|gru(?:ß|ss)|lg|vg|mfg"
    r"|danke(?:\s+(?:schön|sehr|dir|ihnen))?|vielen\s+dank"
    r"|cordialement|bien\s+(?:cordialement|à\s+vous|à\s+toi)|(?:sincères\s+)?salutations(?:\s+distinguées)?"
    r"|merci(?:\s+(?:beaucoup|d'avance|encore))?|amicalement|bonne\s+(?:journée|soirée)|à\s+bientôt|bises"
    r"|(?:un\s+)?saludos?(?:\s+cordiales)?|atentamente|(?:muchas\s+)?gracias|un\s+abrazo|abrazos|cordialmente"
    r"|(?:cordiali\s+|distinti\s+|un\s+)?salut[io]|grazie(?:\s+mille)?"
    r"|(?:met\s+)?(?:vriendelijke|hartelijke)\s+groet(?:en)?|groeten|groetjes|mvg|bedankt|dank\s+je(?:\s+wel)?"
    r"|(?:med\s+)?(?:vänliga|vennlig|venlig|vennlige|bästa)\s+(?:hälsningar|hilsen)|hälsningar|mvh|hilsen|tack|takk"
    r"|pozdrawiam|z\s+poważaniem|dziękuję|pozdrowienia"
    r"|atenciosamente|abraços?|obrigad[oa]|cumprimentos"
    r"|с\s+уважением|спасибо|всего\s+доброго|с\s+наилучшими\s+пожеланиями|з\s+повагою|дякую"
    r"|よろしくお願い(?:いた)?します|谢谢|此致敬礼|祝好"
    r")\s*[,.!;:—–-]*",
    re.I,
)
# A person's name on its own line: a few words, the first one capitalised (or in an uncased script).
_NAME_RE = re.compile(r"[^\W\d_][\w'’.\-]*(?:[ ,]+[^\W\d_(][\w'’.\-()]*){0,4}")
_EMAIL_RE = re.compile(r"[\w.+'-]+@[\w-]+(?:\.[\w-]+)+")
_PHONE_RE = re.compile(r"(?:\+|\(|\b)\d[\d ()./-]{6,}\d")


def explicit_signature_lines(kind: list[int], hints: Sequence[str] | None) -> list[int]:
    """Lines that open a signature for sure: a "-- " delimiter, or an HTML signature container."""
    marked = [i for i, k in enumerate(kind) if k == DELIM]
    if hints is not None:
        marked.extend(i for i, h in enumerate(hints) if h == "s" and kind[i] not in (BLANK, QUOTE))
    return sorted(marked)


def _runs(kind: list[int], limit: int) -> tuple[list[int], list[int]]:
    """For each line before `limit`: where its run of non-quote lines ends, and how many non-blank lines
    are left in that run from it on (computed once, so the signature search stays linear)."""
    run_end = [0] * limit
    left = [0] * limit
    end, count = limit, 0
    for i in range(limit - 1, -1, -1):
        if kind[i] in (QUOTE, HEADER):
            end, count = i, 0
            run_end[i] = i
            continue
        if kind[i] != BLANK:
            count += 1
        run_end[i], left[i] = end, count
    return run_end, left


def find_signature(clean: list[str], kind: list[int], limit: int, explicit: list[int]) -> tuple[int, int] | None:
    """(start, end) of the sender's signature among lines before `limit`, or None."""
    run_end, left = _runs(kind, limit)
    # Non-blank lines after each line in its run (a list, not a function: it is read for every line).
    after = [left[i + 1] if i + 1 < run_end[i] else 0 for i in range(limit)]

    def short_lines_after(i: int, most: int, width: int) -> bool:
        # Links in footers run long ("http://join.msn.com/?pgmarket=…"); they do not make a line prose.
        count = after[i]
        return 1 <= count <= most and all(
            len(clean[k]) <= width or URL_RE.match(clean[k]) is not None
            for k in range(i + 1, run_end[i])
            if kind[k] != BLANK
        )

    texts = [i for i in range(limit) if kind[i] == TEXT]
    # 1. A "-- " delimiter (or HTML signature block), with decoration lines right above it ("ᐧ").
    for i in explicit:
        if i < limit:
            start = i
            while start > 0 and kind[start - 1] == DECOR:
                start -= 1
            return start, run_end[i]
    # 2. A mobile footer near the end of its run, with a bare name typed right above it.
    for i in texts:
        c = clean[i]
        if after[i] <= 2 and len(c) <= MAX_SHORT_LINE and _MOBILE_RE.fullmatch(c):
            start = _extend_over_name(clean, kind, i, texts[0])
            above = start - 1
            while above > texts[0] and kind[above] == BLANK:
                above -= 1
            # A rule line right above the footer ("-----\nSent via Bell Mobility") belongs to it.
            return (above if above > texts[0] and kind[above] == DECOR else start), run_end[i]
    # 3. A rule line after a blank line, followed by a few short lines to the end of its run.
    for i in range(texts[0] + 1 if texts else limit, limit):
        if kind[i] == DECOR and len(clean[i]) >= 3 and kind[i - 1] == BLANK and short_lines_after(i, 12, 80):
            return i, run_end[i]
    if not texts:
        return None
    # 4. Under a sign-off, a closer and a name ("Best regards,\nAna"), in the run holding the last text line:
    #    the short lines below the name (title, company, phone). The sign-off itself is what the sender wrote.
    last = texts[-1]
    end = run_end[last]
    run_start = last
    while run_start > 0 and kind[run_start - 1] not in (QUOTE, HEADER):
        run_start -= 1
    for i in range(max(run_start, texts[0] + 1), end):
        if kind[i] != TEXT or after[i] > 10 or len(clean[i]) > 60 or not _CLOSER_RE.fullmatch(clean[i]):
            continue
        first_after = next(k for k in range(i + 1, end) if kind[k] != BLANK) if after[i] else None
        if first_after is not None and _is_name(clean[first_after]) and short_lines_after(i, 10, 80):
            below = next((k for k in range(first_after + 1, end) if kind[k] != BLANK), None)
            return (below, end) if below is not None else None
    # 5. A trailing paragraph of contact lines: name, title, e-mail, phone, web site.
    para = last
    while para > run_start and kind[para - 1] != BLANK and last - para < 8:
        para -= 1
    block = [k for k in range(para, end) if kind[k] != BLANK]
    if (
        para > texts[0]
        and kind[para - 1] == BLANK
        and 2 <= len(block) <= 8
        and all(len(clean[k]) <= 60 and len(clean[k].split()) <= 7 for k in block)
        and not any(clean[k][-1] in "?:;" or LABEL_LIKE_RE.match(clean[k]) for k in block)
        and any(_is_contact(clean[k]) for k in block)
    ):
        start = _past_sign_off(clean, kind, para, end)
        return (start, end) if start < end and any(_is_contact(clean[k]) for k in range(start, end)) else None
    return None


def _past_sign_off(clean: list[str], kind: list[int], start: int, end: int) -> int:
    """Where a signature block starting at `start` really starts: after a closer and the name under it."""
    if not _CLOSER_RE.fullmatch(clean[start]):
        return start
    following = [k for k in range(start + 1, end) if kind[k] != BLANK]
    if following and _is_name(clean[following[0]]):
        following = following[1:]
    return following[0] if following else end


def _extend_over_name(clean: list[str], kind: list[int], i: int, first_text: int) -> int:
    """Move a mobile footer's start up over a name typed right above it ("Stavros Xxxxxx\nvia mobile").

    Not over a sign-off: "Thanks,\nAna\nSent from my iPhone" keeps "Thanks,\nAna" with what the sender wrote.
    """
    start = i
    while i - start < 2 and start - 1 > first_text and kind[start - 1] == TEXT:
        above = clean[start - 1]
        if len(above.split()) < 2 or not _is_name(above):
            break
        start -= 1
    if start < i and kind[start - 1] == TEXT and _CLOSER_RE.fullmatch(clean[start - 1]):
        return i
    return start


def _is_name(c: str) -> bool:
    """A person's or team's name: short, capitalised words ("Ana Lima", "John E. Doe, Ph.D.", "van der Berg")."""
    if len(c) > 40 or c[-1] in "!?:;" or _NAME_RE.fullmatch(c) is None:
        return False
    # Long lowercase words make a sentence ("I'll check tomorrow."), not a name; short ones are particles.
    return not any(len(word) > 3 and word[0].islower() for word in c.split())


def _is_contact(c: str) -> bool:
    if _EMAIL_RE.search(c) or URL_RE.search(c):
        return True
    # A phone line is mostly digits ("t. 555-931-0702", "Mobil: +12 345 6789"), not a log line with numbers.
    return _PHONE_RE.search(c) is not None and sum(ch.isalpha() for ch in c) <= 12
