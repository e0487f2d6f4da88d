"""Split a message body into what the sender wrote, the quoted reply, the signature and a forwarded block.

Pure: plain strings in, a `Segments` value out; no I/O. Works line by line with compiled, anchored,
bounded regular expressions, so a 2 MB body costs time linear in its size.

How a body is read (plain text; HTML is first turned into tagged lines, see `split_html`):

1. A forwarded block starts at the first top-level forward marker ("---------- Forwarded message",
   "Begin forwarded message:", "-----Original Message-----" and their translations) or Outlook header
   block ("From:/Sent:/To:/Subject:", localized), and runs to the end. Outlook writes the same block
   for replies and forwards, so in text we cannot tell them apart: both count as `forwarded`.
2. Quote headers ("On … wrote:" in many languages, possibly wrapped over several lines) and `>` lines
   (also Supercite `Name>`) are the quoted parts.
3. Top-posting (the sender's text comes first, then a quote header): everything from the header on is
   quoted when no `>` line follows it (the client quoted without markers), or when the quote is followed
   only by trailing text (the quoted mail's footer). A "-- " signature below the quote is the sender's.
4. Otherwise the sender answered between quoted lines (an interleaved or bottom-posted reply): the
   quoted lines between the sender's answers stay in `new_text`, because an answer without its question
   is unreadable; quote headers and the leading and trailing quote blocks go to `quoted`. A body made of
   nothing but `>` lines, with no header, is what the sender sent: it is `new_text`.
5. The signature is one block: from a "-- " delimiter, a mobile footer ("Sent from my iPhone" …), a
   rule line followed by a few short lines, or, when none of those exists, a closer with a name
   ("Best regards,\\nAna") or a trailing block of contact lines (e-mail, phone, URL).

Nothing is thrown away: every non-blank input line lands in exactly one of the four segments.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from html.parser import HTMLParser


@dataclass(frozen=True, slots=True)
class Segments:
    """The parts of one message body; each is stripped text, empty when absent.

    `new_text`: what the sender wrote in this message (with the quoted lines they answered in between,
    for interleaved replies). `quoted`: earlier message(s) quoted, including the quote header line.
    `signature`: the sender's signature block. `forwarded`: a forwarded message from its header on.
    """

    new_text: str
    quoted: str
    signature: str
    forwarded: str


# Line kinds.
_BLANK, _TEXT, _QUOTE, _HEADER, _DELIM, _DECOR = range(6)
# Segments a line can be put in.
_UNSET, _NEW, _QUOTED, _SIG, _FWD = range(-1, 4)

# Invisible characters that clients sprinkle into headers (Windows Mail puts LRMs inside dates).
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u200e\u200f\u2060\ufeff\u202a\u202b\u202c\u202d\u202e"))

# Lines longer than this are prose, never a header, a footer or a signature line; the caps also bound
# the work every regular expression below can do on hostile input.
_MAX_HEADER_LINE = 400
_MAX_SHORT_LINE = 120
_HEADER_LOOKBACK = 5

# ">" quoting, and Supercite's "Name>" (a short word right before ">", then a space or the line end).
_QUOTE_RE = re.compile(r">|[^\W\d_][\w.-]{0,15}>(?:\s|$)")
# Rule lines people and clients draw: "-----", "_____", "***", "ᐧ" (a Gmail extension's marker) …
_DECOR_RE = re.compile(r"[-_=~*#+ᐧ—–]+")

_FORWARD_RE = re.compile(
    r"[\s*]*(?:-{2,}\s*(?:"
    r"Original\s+Message|Forwarded\s+Message|Ursprüngliche\s+Nachricht|Weitergeleitete\s+Nachricht|"
    r"Message\s+d'origine|Message\s+transféré|Messaggio\s+originale|Messaggio\s+inoltrato|Mensaje\s+original|"
    r"Mensaje\s+reenviado|Mensagem\s+original|Mensagem\s+encaminhada|Oorspronkelijk\s+bericht|"
    r"Doorgestuurd\s+bericht|Originalmeddelande|Vidarebefordrat\s+meddelande|Oprindelig\s+meddelelse|"
    r"Videresendt\s+meddelelse|Opprinnelig\s+melding|Videresendt\s+melding|Alkuperäinen\s+viesti|"
    r"Välitetty\s+viesti|Wiadomość\s+oryginalna|Wiadomość\s+przekazana\s+dalej|Przekazana\s+wiadomość|"
    r"Původní\s+zpráva|Přeposlaná\s+zpráva|Исходное\s+сообщение|Пересылаемое\s+сообщение|"
    r"Пересланное\s+сообщение|Переслане\s+повідомлення|Eredeti\s+üzenet|Orijinal\s+ileti|"
    r"原始邮件|原始郵件|转发邮件|转发的邮件|転送されたメッセージ|元のメッセージ"
    r")\s*-{2,}"
    r"|(?:Begin\s+forwarded\s+message|Début\s+du\s+message\s+réexpédié|Début\s+du\s+message\s+transféré|"
    r"Anfang\s+der\s+weitergeleiteten\s+(?:Nachricht|E-Mail)|Inizio\s+messaggio\s+inoltrato|"
    r"Comienzo\s+del\s+mensaje\s+reenviado|Início\s+da\s+mensagem\s+reencaminhada|"
    r"Begin\s+doorgestuurd\s+bericht|Vidarebefordrat\s+brev|Начало\s+переадресованного\s+сообщения)\s*[:：]"
    r")\s*\**\s*$",
    re.I,
)
# Android/HTC write this over a reply's quoted original; it is a quote header, not a forward.
_REPLY_MARKER_RE = re.compile(r"[\s*]*-{2,}\s*Reply\s+message\s*-{2,}\s*\**\s*$", re.I)

# Outlook-style header block labels, by role, in the languages Outlook and webmails localize them to.
_LABEL_RE = re.compile(
    r"[\s*]*(?:"
    r"(?P<from>From|Von|De|Da|Van|Från|Fra|Frá|Od|От|Від|Lähettäjä|Feladó|Kimden|Afzender|Expéditeur|Remitente|"
    r"Mittente|Nadawca|Odesílatel|Από|发件人|寄件者|差出人|보낸\s*사람)"
    r"|(?P<date>Sent|Date|Datum|Gesendet|Envoyé|Inviato|Enviado|Enviada\s+em|Verzonden|Skickat|Sendt|Wysłano|"
    r"Wysłane|Отправлено|Дата|Надіслано|Lähetetty|Elküldve|Gönderildi|Tarih|Data|Fecha|Le|Odesláno|Ημερομηνία|"
    r"发送时间|日期|送信日時|傳送時間|날짜|보낸\s*날짜)"
    r"|(?P<to>To|An|À|A|Aan|Till|Til|Do|Кому|Para|Destinataire|Destinatario|Vastaanottaja|Címzett|Kime|Komu|"
    r"Προς|收件人|宛先|받는\s*사람)"
    r"|(?P<cc>Cc|Bcc|Kopie|Kopie\s+an|Копия|Kopia|Kopio|Másolat|Bilgi|抄送|副本)"
    r"|(?P<subject>Subject|Betreff|Objet|Oggetto|Asunto|Assunto|Onderwerp|Ämne|Emne|Temat|Тема|Aihe|Tárgy|Konu|"
    r"Předmět|Θέμα|主题|主題|件名|主旨|제목)"
    r"|(?P<reply>Reply-To|Risposta|Antwort\s+an|Répondre\s+à|Responder\s+a|Beantwoorden\s+-\s+Aan)"
    r")[\s*]*[:：]",
    re.I,
)

# "wrote" in the languages quote headers come in. Latin-script verbs must start a word.
_VERBS = (
    r"(?:(?<!\w)(?:wrote|writes|said|says|a\s+écrit|a\s+ecrit|nous\s+a\s+dit|schrieb|schrieben\s+Sie|geschrieben|"
    r"schreef|het\s+volgende\s+geschreven|escribió|escribio|escreveu|ha\s+scritto|skrev|kirjoitti|írta|"
    r"napisał\(a\)|napisała|napisał|pisze|napsal\(a\)|napsal|napísal|написал\(а\)|написала|написал|пише|писал|"
    r"yazdı|έγραψε|scrise)|写道|寫道|のメッセージ|は書きました|書きました|님이\s*작성)"
)
_VERB_ANY_RE = re.compile(_VERBS, re.I)
# "… wrote:" at the end of a header.
_VERB_END_RE = re.compile(_VERBS + r"\s*[:：.]?\s*-*\s*$", re.I)
# Verbs after which some clients put more before the colon: "schrieb am Fr., 28. Apr. 2017 um 11:53 Uhr:",
# "skrev Jeff <jeff@example.com>:", "wrote on 5/5/2016:".
_VERB_TAIL_RE = re.compile(
    r"(?<!\w)(?:schrieb|skrev|schreef|wrote|escribió|a\s+écrit)\s[^\n]{0,120}?[:：]\s*-*\s*$", re.I
)
# Gmail in some locales: "2015-10-18 0:17 GMT+03:00 Matt <m@example.com>:", "2013/7/20 sam <s@example.com>".
_DATE_EMAIL_END_RE = re.compile(r"<[^\s<>@]+@[^\s<>]+>\s*[:：]?\s*$")
_ISO_GMAIL_RE = re.compile(r"\d{4}-\d\d-\d\d \d\d?:\d\d GMT[+-]\d\d?:\d\d\s.{1,100}$")
_DATE_TOKEN_RE = re.compile(r"\d{1,4}[./\-年]\d{1,2}|\d{1,2}:\d{2}|(?<!\d)(?:19|20)\d{2}(?!\d)")
# Words a quote header opens with: "On", "Le", "Am", "El", "Il", "Op", "Den", "W dniu", "Em", "在" …
_OPENER_RE = re.compile(
    r"[\s>*-]*(?:On|At|In\s+message|Le|Am|El|Il|Op|Den|Dnia|Dňa|W\s+dniu|Em|Dne|Στις|Pada|Vào|På|В|Во|在|於)"
    r"(?=[\s,])",
    re.I,
)
# Month and weekday abbreviations a wrapped header line can end with ("Le 4 janv."), which end no sentence.
_ABBREVIATIONS = frozenset(
    {"jan", "janv", "feb", "febr", "févr", "fév", "mar", "mrt", "apr", "avr", "abr", "may", "mai", "jun", "juin",
     "jul", "juil", "aug", "ago", "août", "sep", "sept", "oct", "okt", "nov", "dec", "déc", "dic", "des", "ene",
     "mon", "tue", "wed", "thu", "fri", "sat", "sun", "mo", "di", "mi", "do", "fr", "sa", "so", "lun", "mer", "jeu",
     "ven", "sam", "dim", "nachm", "vorm"}
)  # fmt: skip

_MOBILE_RE = re.compile(
    r"[\s(<*_-]*(?:"
    r"sent\s+(?:from|via|with|by|using|on)\s+\S.{0,60}"
    r"|get\s+outlook\s+for\s+\S.{0,30}"
    r"|(?:sent\s+)?(?:via|from)\s+(?:my\s+|a\s+)?(?:mobile|phone|cell(?:phone)?|smartphone)(?:\s+device)?"
    r"|\w+\s+from\s+mobile"
    r"|from\s+my\s+(?:iphone|ipad|android|samsung|galaxy|mobile|phone|blackberry|smartphone)\b.{0,30}"
    r"|envoyé\s+(?:de|depuis|à\s+partir\s+de)\s+(?:mon|ma|yahoo|l'application|outlook)\b.{0,60}"
    r"|von\s+meinem\s+.{1,40}\s+gesendet|gesendet\s+(?:von|mit)\s+(?:meinem|meiner|mein)\s+.{1,40}"
    r"|diese\s+nachricht\s+wurde\s+von\s+.{1,80}\s+gesendet"
    r"|enviado\s+(?:desde|do|de|a\s+partir\s+do)\s+(?:mi|meu|o\s+meu|my)\s+.{1,60}"
    r"|inviato\s+da\s+(?:iphone|ipad|android|il\s+mio|mio|libero|yahoo|samsung|outlook)\b.{0,60}"
    r"|(?:verzonden|verstuurd)\s+(?:vanaf|met|van)\s+(?:mijn\s+)?.{1,60}"
    r"|skickat\s+från\s+.{1,60}|sendt\s+fra\s+(?:min|mi|mitt)\s+.{1,60}|lähetetty\s+.{1,40}(?:sta|stä|lla)"
    r"|wysłane\s+z\s+.{1,60}|отправлено\s+(?:с|из|со)\s+.{1,60}|надіслано\s+з\s+.{1,60}"
    r"|.{0,20}から送信|发自我的.{1,30}|從我的.{1,30}傳送|从我的.{1,30}发送|来自我的.{1,30}"
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
_URL_RE = re.compile(r"(?:https?://|www\.)\S", re.I)
_PHONE_RE = re.compile(r"(?:\+|\(|\b)\d[\d ()./-]{6,}\d")
# "Author: …", "Date: …": a mail-header-like line, which is never part of an "On … wrote:" header.
_LABEL_LIKE_RE = re.compile(r"[^\W\d][\w-]{1,23}[ \t]?:\s")


def split_text(text: str) -> Segments:
    """Split a plain-text body. Never raises; every non-blank line of `text` lands in exactly one segment."""
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return _split(text.split("\n"))


def split_html(html: str) -> Segments:
    """Split an HTML body into plain-text segments, using the markers mail clients leave in HTML.

    Blockquotes (Gmail `gmail_quote`, Apple `type=cite`, Thunderbird after `moz-cite-prefix`) are quoted;
    Outlook's `divRplyFwdMsg` / `OutlookMessageHeader` / `OLK_SRC_BODY_SECTION`, Hotmail's `stopSpelling`
    rule and Yahoo's `yahoo_quoted` start the quoted or forwarded tail; `gmail_signature` / `moz-signature`
    mark the signature. The rest is read as text, exactly as `split_text` would. Never raises.
    """
    reader = _HtmlLines()
    try:
        reader.feed(html)
        reader.close()
    except Exception:  # html.parser is lenient; this guards the odd assertion on broken declarations
        return split_text(re.sub(r"<[^>]{0,2000}>", " ", html))
    reader.flush()
    return _split(reader.lines, reader.hints, reader.cut)


# --- the line engine -------------------------------------------------------------------------------


def _split(lines: list[str], hints: Sequence[str] | None = None, cut: int | None = None) -> Segments:
    n = len(lines)
    clean = [line.translate(_INVISIBLE).strip() for line in lines]
    kind = [_kind(c) for c in clean]
    if hints is not None:
        for i, hint in enumerate(hints):
            if hint == "q" and kind[i] != _BLANK:
                kind[i] = _QUOTE

    fwd_start, tail_segment = _forward_start(clean, kind, cut)
    headers = _quote_headers(clean, kind, fwd_start, hints)
    for start, end in headers:
        for i in range(start, end + 1):
            if kind[i] != _BLANK:
                kind[i] = _HEADER
    explicit = _explicit_signature_lines(kind, hints)

    segment = [_UNSET] * n
    for i in range(fwd_start, n):
        segment[i] = tail_segment
    region_end = fwd_start
    bottom_signature = False

    top = _top_post_cut(kind, headers, fwd_start, explicit)
    if top is not None:
        cut_at, quoted_end, sig_from = top
        for i in range(cut_at, quoted_end):
            segment[i] = _QUOTED
        if sig_from is not None:
            bottom_signature = True
            for i in range(sig_from, fwd_start):
                segment[i] = _SIG
        region_end = cut_at

    if not bottom_signature:
        found = _signature(clean, kind, region_end, explicit)
        if found is not None:
            for i in range(*found):
                segment[i] = _SIG

    _assign_region(kind, segment, region_end, quote_only=top is None)
    return _collect(lines, kind, segment)


def _kind(c: str) -> int:
    if not c:
        return _BLANK
    if c[0] == ">" or (">" in c[:18] and _QUOTE_RE.match(c)):
        return _QUOTE
    if c == "--":
        return _DELIM
    if _DECOR_RE.fullmatch(c):
        return _DECOR
    return _TEXT


def _forward_start(clean: list[str], kind: list[int], cut: int | None) -> tuple[int, int]:
    """Index where the forwarded (or HTML-marked quoted) tail starts, widened over a rule line above it."""
    n = len(clean)
    start = n
    i = 0
    while i < n:
        if kind[i] != _TEXT or len(clean[i]) > _MAX_HEADER_LINE:
            i += 1
            continue
        if _FORWARD_RE.match(clean[i]):
            start = i
            break
        if _LABEL_RE.match(clean[i]):
            qualifies, end = _outlook_block(clean, kind, i)
            if qualifies:
                start = i
                break
            i = end
            continue
        i += 1
    segment = _FWD
    if cut is not None and cut < start:
        # An HTML marker says the tail starts here; it is a forward only if a forward header follows.
        window = slice(cut, cut + 12)
        found = _forward_start(clean[window], kind[window], None)[0] < len(clean[window])
        segment = _FWD if found else _QUOTED
        start = cut
    if start == n:
        return n, _FWD
    # Outlook draws a rule ("_____", " -----") above its header block: it belongs to the block.
    j = start - 1
    while j >= 0 and kind[j] in (_BLANK, _DECOR):
        j -= 1
    k = j + 1
    while k < start and kind[k] == _BLANK:
        k += 1
    return k, segment


def _outlook_block(clean: list[str], kind: list[int], i: int) -> tuple[bool, int]:
    """Whether consecutive header-label lines from `i` form a From/Sent/To/Subject block; and where they end."""
    roles: list[str] = []
    continuation = 0
    j = i
    while j < len(clean) and kind[j] == _TEXT and len(clean[j]) <= _MAX_HEADER_LINE:
        match = _LABEL_RE.match(clean[j])
        if match:
            roles.append(match.lastgroup or "")
            continuation = 0
        elif continuation or j == i:
            break
        else:
            continuation = 1  # one wrapped line ("Sent: Friday, June 27, 2014 12:06\nPM") is allowed
        j += 1
    if "from" not in roles:
        return False, max(j, i + 1)
    after_from = roles[roles.index("from") + 1 : roles.index("from") + 2]
    return len(set(roles)) >= 3 or after_from == ["date"], max(j, i + 1)


def _quote_headers(clean: list[str], kind: list[int], limit: int, hints: Sequence[str] | None) -> list[tuple[int, int]]:
    """(first, last) line of every top-level quote header before `limit`, in order."""
    found: list[tuple[int, int]] = []
    has_verb: dict[int, bool] = {}

    def verb_near(j: int) -> bool:
        # The verb of a wrapped header is on its last line or a few lines above ("schrieb am …\num 11:53 Uhr:").
        for k in range(j, max(-1, j - _HEADER_LOOKBACK - 1), -1):
            if k not in has_verb:
                has_verb[k] = len(clean[k]) <= _MAX_HEADER_LINE and _VERB_ANY_RE.search(clean[k]) is not None
            if has_verb[k]:
                return True
        return False

    last_end = -1
    j = 0
    while j < limit:
        c = clean[j]
        if hints is not None and hints[j] == "h" and c:
            end = j
            while end + 1 < limit and hints[end + 1] == "h":
                end += 1
            found.append((j, end))
            last_end = j = end
            j += 1
            continue
        if c and len(c) <= _MAX_HEADER_LINE and _may_end_header(c):
            start = None
            if verb_near(j) or _DATE_EMAIL_END_RE.search(c) or _ISO_GMAIL_RE.match(c) or _REPLY_MARKER_RE.match(c):
                start = _header_start(clean, kind, j, last_end)
            if start is None and kind[j] == _TEXT and _is_attribution(clean, kind, j, limit):
                start = j
            if start is not None:
                j = _wrapped_verb_end(clean, j, limit)
                found.append((start, j))
                last_end = j
        j += 1
    return found


def _wrapped_verb_end(clean: list[str], j: int, limit: int) -> int:
    """Extend a header over the wrapped "wrote:" fragment below it ("…<a@example.com>\\n> wrote:")."""
    for k in range(j + 1, min(j + 3, limit)):
        fragment = clean[k].lstrip("> ")
        if not fragment:
            continue
        if len(fragment) <= 40 and _VERB_END_RE.match(fragment) is not None:
            return k
        break
    return j


def _may_end_header(c: str) -> bool:
    return (
        c[-1] in ":：>-"
        or _VERB_END_RE.search(c[-48:]) is not None
        or (c[0].isdigit() and _ISO_GMAIL_RE.match(c) is not None)
    )


def _header_start(clean: list[str], kind: list[int], j: int, floor: int) -> int | None:
    """The first line of a quote header ending on line `j`, or None.

    Headers wrap: we try windows of up to six lines ending at `j`. A window opening with an attribution
    word ("On", "Le", "Am" …) wins at its smallest; otherwise the largest window whose every line carries
    a date or an address is taken, so a wrapped "02.04.2012 14:20 Bob <\\nbob@example.com> написал:" stays whole.
    """
    if kind[j] != _QUOTE and _REPLY_MARKER_RE.match(clean[j]):
        return j
    if kind[j] == _QUOTE and _qualifies(clean[j].lstrip("> ")):
        return None  # a quoted header ("> On … wrote:") belongs to the quote, not to the line above it
    best_weak: int | None = None
    weak_chain = True
    blank_inside = False
    parts: list[str] = []  # the window's lines, last first
    for i in range(j, max(floor, j - _HEADER_LOOKBACK - 1), -1):
        c = clean[i]
        if not c:
            if i == j:
                return None
            blank_inside = True
            continue
        if i < j and (kind[i] in (_QUOTE, _HEADER) or len(c) > 2 * _MAX_SHORT_LINE or _ends_sentence(c)):
            break
        if kind[i] == _QUOTE:
            # Only the closing fragment of a wrapped header may be quoted ("> wrote:"); it never opens one.
            parts.append(c.lstrip("> "))
            continue
        if _LABEL_RE.match(c) or _LABEL_LIKE_RE.match(c) or _FORWARD_RE.match(c):
            break
        parts.append(c)
        if _qualifies(" ".join(reversed(parts))):
            if _OPENER_RE.match(c):
                return i
            if weak_chain and not blank_inside and _weak_start(c):
                best_weak = i
        if i != j and not _weak_start(c):
            weak_chain = False
    return best_weak


def _qualifies(joined: str) -> bool:
    if len(joined) > _MAX_HEADER_LINE or not any(ch.isdigit() or ch == "@" for ch in joined):
        return False
    return bool(
        _VERB_END_RE.search(joined)
        or _VERB_TAIL_RE.search(joined)
        or (_DATE_EMAIL_END_RE.search(joined) and _DATE_TOKEN_RE.search(joined))
        or _ISO_GMAIL_RE.match(joined)
        or _REPLY_MARKER_RE.match(joined)
    )


def _weak_start(c: str) -> bool:
    return "@" in c or _DATE_TOKEN_RE.search(c) is not None


def _ends_sentence(c: str) -> bool:
    last = c[-1]
    if last in "!?。！？":
        return True
    if last != ".":
        return False
    word = c[:-1].rsplit(None, 1)[-1] if c[:-1].strip() else ""
    word = word.strip("(\"'").lower()
    return len(word) > 1 and word.isalpha() and word not in _ABBREVIATIONS


def _is_attribution(clean: list[str], kind: list[int], j: int, limit: int) -> bool:
    """A short dated line ending in ':' right before a quote: an attribution in a language we do not list."""
    c = clean[j]
    if c[-1] not in ":：" or len(c) > 200 or not _DATE_TOKEN_RE.search(c):
        return False
    k = j + 1
    while k < limit and kind[k] == _BLANK:
        k += 1
    return k < limit and kind[k] == _QUOTE


def _explicit_signature_lines(kind: list[int], hints: Sequence[str] | None) -> list[int]:
    """Lines that open a signature for sure: a "-- " delimiter, or an HTML signature container."""
    marked = [i for i, k in enumerate(kind) if k == _DELIM]
    if hints is not None:
        marked.extend(i for i, h in enumerate(hints) if h == "s" and kind[i] not in (_BLANK, _QUOTE))
    return sorted(marked)


def _top_post_cut(
    kind: list[int], headers: list[tuple[int, int]], limit: int, explicit: list[int]
) -> tuple[int, int, int | None] | None:
    """For a top-posted reply: (cut, quoted_end, bottom_signature_start) — else None.

    Top-posted means the sender's text comes first and the first quote structure is a header. Then the
    rest is quoted when no `>` line follows the header (the client quoted without markers), or when the
    quote is followed only by trailing text (the quoted mail's own footer) — not when the sender answered
    between quoted lines. A "-- " signature after the quote is the sender's (some clients sign below).
    """
    if not headers:
        return None
    first_structure = next((i for i in range(limit) if kind[i] in (_QUOTE, _HEADER)), None)
    start, end = headers[0]
    if first_structure != start or not any(kind[i] == _TEXT for i in range(start)):
        return None
    first_quote = next((i for i in range(end + 1, limit) if kind[i] == _QUOTE), None)
    if first_quote is None:
        return start, len(kind), None
    sig_from = next((i for i in explicit if first_quote < i < limit), None)
    stop = sig_from if sig_from is not None else limit
    seen_text = False
    for i in range(first_quote, stop):
        if kind[i] == _TEXT:
            seen_text = True
        elif kind[i] == _QUOTE and seen_text:
            return None  # interleaved: the sender answered between quoted lines
    return start, stop, sig_from


def _runs(kind: list[int], limit: int) -> tuple[list[int], list[int]]:
    """For each line before `limit`: where its run of non-quote lines ends, and how many non-blank lines
    are left in that run from it on (computed once, so the signature search stays linear)."""
    run_end = [0] * limit
    left = [0] * limit
    end, count = limit, 0
    for i in range(limit - 1, -1, -1):
        if kind[i] in (_QUOTE, _HEADER):
            end, count = i, 0
            run_end[i] = i
            continue
        if kind[i] != _BLANK:
            count += 1
        run_end[i], left[i] = end, count
    return run_end, left


def _signature(clean: list[str], kind: list[int], limit: int, explicit: list[int]) -> tuple[int, int] | None:
    """(start, end) of the sender's signature among lines before `limit`, or None."""
    run_end, left = _runs(kind, limit)

    def lines_after(i: int) -> int:
        return left[i + 1] if i + 1 < run_end[i] else 0

    def short_lines_after(i: int, most: int, width: int) -> bool:
        # Links in footers run long ("http://join.msn.com/?pgmarket=…"); they do not make a line prose.
        count = lines_after(i)
        return 1 <= count <= most and all(
            len(clean[k]) <= width or _URL_RE.match(clean[k]) is not None
            for k in range(i + 1, run_end[i])
            if kind[k] != _BLANK
        )

    texts = [i for i in range(limit) if kind[i] == _TEXT]
    # 1. A "-- " delimiter (or HTML signature block), with decoration lines right above it ("ᐧ").
    for i in explicit:
        if i < limit:
            start = i
            while start > 0 and kind[start - 1] == _DECOR:
                start -= 1
            return start, run_end[i]
    # 2. A mobile footer near the end of its run, with the name or closer right above it.
    for i in texts:
        c = clean[i]
        if lines_after(i) <= 2 and len(c) <= _MAX_SHORT_LINE and _MOBILE_RE.fullmatch(c):
            start = _extend_over_closer(clean, kind, i, texts[0])
            above = start - 1
            while above > texts[0] and kind[above] == _BLANK:
                above -= 1
            # A rule line right above the footer ("-----\nSent via Bell Mobility") belongs to it.
            return (above if above > texts[0] and kind[above] == _DECOR else start), run_end[i]
    # 3. A rule line after a blank line, followed by a few short lines to the end of its run.
    for i in range(texts[0] + 1 if texts else limit, limit):
        if kind[i] == _DECOR and len(clean[i]) >= 3 and kind[i - 1] == _BLANK and short_lines_after(i, 12, 80):
            return i, run_end[i]
    if not texts:
        return None
    # 4. A closer followed by a name ("Best regards,\nAna"), in the run holding the last text line.
    last = texts[-1]
    end = run_end[last]
    run_start = last
    while run_start > 0 and kind[run_start - 1] not in (_QUOTE, _HEADER):
        run_start -= 1
    for i in range(max(run_start, texts[0] + 1), end):
        if kind[i] != _TEXT or lines_after(i) > 10 or len(clean[i]) > 60 or not _CLOSER_RE.fullmatch(clean[i]):
            continue
        first_after = next(k for k in range(i + 1, end) if kind[k] != _BLANK) if lines_after(i) else None
        if first_after is not None and _is_name(clean[first_after]) and short_lines_after(i, 10, 80):
            return i, end
    # 5. A trailing paragraph of contact lines: name, title, e-mail, phone, web site.
    para = last
    while para > run_start and kind[para - 1] != _BLANK and last - para < 8:
        para -= 1
    block = [k for k in range(para, end) if kind[k] != _BLANK]
    if (
        para > texts[0]
        and kind[para - 1] == _BLANK
        and 2 <= len(block) <= 8
        and all(len(clean[k]) <= 60 and len(clean[k].split()) <= 7 for k in block)
        and not any(clean[k][-1] in "?:;" or _LABEL_LIKE_RE.match(clean[k]) for k in block)
        and any(_is_contact(clean[k]) for k in block)
    ):
        return para, end
    return None


def _extend_over_closer(clean: list[str], kind: list[int], i: int, first_text: int) -> int:
    """Move a mobile footer's start up over the name and closer the sender typed right above it."""
    start = i
    while i - start < 4 and start - 1 > first_text and kind[start - 1] == _TEXT:
        if not _is_name_or_closer(clean[start - 1]):
            break
        start -= 1
    above = start - 1
    while above > first_text and kind[above] == _BLANK:
        above -= 1
    para = above
    while above - para < 4 and para - 1 > first_text and kind[para - 1] == _TEXT:
        para -= 1
    closer_block = (
        para > first_text
        and above >= para
        and _CLOSER_RE.fullmatch(clean[para]) is not None
        and all(_is_name(clean[k]) for k in range(para + 1, above + 1))
    )
    return para if closer_block else start


def _is_name(c: str) -> bool:
    """A person's or team's name: short, capitalised words ("Ana Lima", "John E. Doe, Ph.D.", "van der Berg")."""
    if len(c) > 40 or c[-1] in "!?:;" or _NAME_RE.fullmatch(c) is None:
        return False
    # Long lowercase words make a sentence ("I'll check tomorrow."), not a name; short ones are particles.
    return not any(len(word) > 3 and word[0].islower() for word in c.split())


def _is_name_or_closer(c: str) -> bool:
    return (len(c.split()) >= 2 and _is_name(c)) or _CLOSER_RE.fullmatch(c) is not None


def _is_contact(c: str) -> bool:
    if _EMAIL_RE.search(c) or _URL_RE.search(c):
        return True
    # A phone line is mostly digits ("t. 555-931-0702", "Mobil: +12 345 6789"), not a log line with numbers.
    return _PHONE_RE.search(c) is not None and sum(ch.isalpha() for ch in c) <= 12


def _assign_region(kind: list[int], segment: list[int], limit: int, *, quote_only: bool) -> None:
    """Put the lines before `limit` that no rule claimed into new text or quoted; blank lines follow a neighbour."""
    texts = [i for i in range(limit) if segment[i] == _UNSET and kind[i] in (_TEXT, _DELIM)]
    first, last = (texts[0], texts[-1]) if texts else (-1, -1)
    only_quotes = (
        quote_only and not texts and not any(kind[i] == _HEADER for i in range(limit))
    )  # a message that is nothing but a '>' excerpt: that excerpt is what the sender sent
    for i in range(limit):
        if segment[i] != _UNSET:
            continue
        k = kind[i]
        if k in (_TEXT, _DELIM):
            segment[i] = _NEW
        elif k == _HEADER:
            segment[i] = _QUOTED
        elif k == _QUOTE:
            segment[i] = _NEW if only_quotes or first < i < last else _QUOTED
    previous = _UNSET
    pending: list[int] = []
    for i in range(len(kind)):
        if segment[i] == _UNSET:
            if previous == _UNSET:
                pending.append(i)
            else:
                segment[i] = previous
        else:
            previous = segment[i]
            for p in pending:
                segment[p] = previous
            pending.clear()
    for p in pending:
        segment[p] = _NEW


def _collect(lines: list[str], kind: list[int], segment: list[int]) -> Segments:
    parts: dict[int, list[str]] = {_NEW: [], _QUOTED: [], _SIG: [], _FWD: []}
    last_index: dict[int, int] = {}
    for i, line in enumerate(lines):
        which = segment[i]
        bucket = parts[which]
        if which in last_index and last_index[which] != i - 1 and kind[i] != _BLANK:
            bucket.append("")  # keep pieces that were apart in the message apart in the segment
        bucket.append(line)
        last_index[which] = i
    return Segments(
        new_text="\n".join(parts[_NEW]).strip(),
        quoted="\n".join(parts[_QUOTED]).strip(),
        signature="\n".join(parts[_SIG]).strip(),
        forwarded="\n".join(parts[_FWD]).strip(),
    )


# --- HTML → tagged lines -----------------------------------------------------------------------------

_VOID = frozenset(
    {"br", "hr", "img", "meta", "link", "input", "wbr", "col", "area", "base", "source", "track", "embed"}
)
_SKIP = frozenset({"script", "style", "head", "title", "template"})
_BLOCK = frozenset(
    {"p", "div", "tr", "li", "ul", "ol", "table", "blockquote", "pre", "section", "article", "header", "footer",
     "h1", "h2", "h3", "h4", "h5", "h6", "dd", "dt", "address", "center", "td", "th"}
)  # fmt: skip
_CUT_IDS = frozenset(
    {"divrplyfwdmsg", "appendonsend", "olk_src_body_section", "mail-editor-reference-message-container",
     "outlookmessageheader", "stopspelling"}
)  # fmt: skip
_QUOTE_FLAG, _HEAD_FLAG, _SIG_FLAG, _SKIP_FLAG = 1, 2, 4, 8


class _HtmlLines(HTMLParser):
    """Visible text of an HTML body as lines, each tagged "q" (quoted), "h" (quote header), "s" (signature) or ""."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[str] = []
        self.hints: list[str] = []
        self.cut: int | None = None
        self._buffer: list[str] = []
        self._hint = ""
        self._stack: list[tuple[str, int]] = []
        self._depth = {_QUOTE_FLAG: 0, _HEAD_FLAG: 0, _SIG_FLAG: 0, _SKIP_FLAG: 0}
        self._pre = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _VOID:
            if tag == "br":
                self.flush(force=True)
            elif tag == "hr":
                self.flush()
                if self._marks_cut(attrs):
                    self._mark_cut()
            return
        flags = self._flags(tag, attrs)
        if tag in _BLOCK or flags:
            self.flush()
        if self._marks_cut(attrs):
            self._mark_cut()
        if tag == "pre":
            self._pre += 1
        self._stack.append((tag, flags))
        for flag in self._depth:
            if flags & flag:
                self._depth[flag] += 1

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in _VOID:
            self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in _VOID or not any(open_tag == tag for open_tag, _ in self._stack):
            return
        while self._stack:
            open_tag, flags = self._stack.pop()
            if open_tag in _BLOCK or flags:
                self.flush()
            if open_tag == "pre":
                self._pre -= 1
            for flag in self._depth:
                if flags & flag:
                    self._depth[flag] -= 1
            if open_tag == tag:
                break

    def handle_data(self, data: str) -> None:
        if self._depth[_SKIP_FLAG]:
            return
        if not self._buffer:
            self._hint = self._current_hint()
        if self._pre and "\n" in data:
            first, *rest = data.split("\n")
            self._buffer.append(first)
            for piece in rest:
                self.flush(force=True)
                self._hint = self._current_hint()
                self._buffer.append(piece)
        else:
            self._buffer.append(data)

    def flush(self, *, force: bool = False) -> None:
        """End the current line (an empty one only when `force`, as for <br>)."""
        text = "".join(self._buffer)
        self._buffer.clear()
        text = text.translate(_INVISIBLE)
        text = text.rstrip() if self._pre else " ".join(text.split())
        if text or force:
            self.lines.append(text)
            self.hints.append(self._hint if text else "")
        self._hint = self._current_hint()

    def _current_hint(self) -> str:
        if self._depth[_QUOTE_FLAG]:
            return "q"
        if self._depth[_HEAD_FLAG]:
            return "h"
        return "s" if self._depth[_SIG_FLAG] and self.cut is None else ""

    def _flags(self, tag: str, attrs: list[tuple[str, str | None]]) -> int:
        if tag in _SKIP:
            return _SKIP_FLAG
        values = {name: (value or "") for name, value in attrs}
        classes = values.get("class", "").lower()
        if tag == "blockquote":
            style = "".join(values.get("style", "").lower().split())
            # Gmail's and Outlook's "indent" button writes a borderless blockquote: that is the sender's text.
            indent = "border:none" in style and values.get("type") != "cite" and "quote" not in classes
            return 0 if indent else _QUOTE_FLAG
        if "gmail_attr" in classes or "moz-cite-prefix" in classes:
            return _HEAD_FLAG
        if "gmail_signature" in classes or "moz-signature" in classes or values.get("id", "").lower() == "signature":
            return _SIG_FLAG
        return 0

    @staticmethod
    def _marks_cut(attrs: list[tuple[str, str | None]]) -> bool:
        for attribute, value in attrs:
            if not value or attribute not in ("id", "class"):
                continue
            for token in value.lower().split():
                name = token.removeprefix("x_")  # Outlook web prefixes ids in replies it renders again
                if name in _CUT_IDS or name.startswith("yahoo_quoted"):
                    return True
        return False

    def _mark_cut(self) -> None:
        self.flush()
        if self.cut is None and not self._depth[_QUOTE_FLAG]:
            self.cut = len(self.lines)
