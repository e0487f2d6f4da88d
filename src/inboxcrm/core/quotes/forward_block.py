"""Where a forwarded message (or Outlook's From/Sent/To/Subject block) starts in a body; pure."""

from __future__ import annotations

import re

from inboxcrm.core.quotes.lines import BLANK, DECOR, FWD, LABEL_LIKE_RE, MAX_HEADER_LINE, QUOTED, TEXT

FORWARD_RE = re.compile(
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

# Outlook-style header block labels, by role, in the languages Outlook and webmails localize them to.
LABEL_RE = re.compile(
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


def forward_start(clean: list[str], kind: list[int], cut: int | None) -> tuple[int, int]:
    """Index where the forwarded (or HTML-marked quoted) tail starts, widened over a rule line above it."""
    n = len(clean)
    start = n
    i = 0
    while i < n:
        if kind[i] != TEXT or len(clean[i]) > MAX_HEADER_LINE or not _may_open_block(clean[i]):
            i += 1
            continue
        if FORWARD_RE.match(clean[i]):
            start = i
            break
        if LABEL_RE.match(clean[i]):
            qualifies, end = _outlook_block(clean, kind, i)
            if qualifies:
                start = i
                break
            i = end
            continue
        i += 1
    bucket = FWD
    if cut is not None and cut < start:
        # An HTML marker says the tail starts here; it is a forward only if a forward header follows.
        window = slice(cut, cut + 12)
        found = forward_start(clean[window], kind[window], None)[0] < len(clean[window])
        bucket = FWD if found else QUOTED
        start = cut
    if start == n:
        return n, FWD
    # Outlook draws a rule ("_____", " -----") above its header block: it belongs to the block.
    j = start - 1
    while j >= 0 and kind[j] in (BLANK, DECOR):
        j -= 1
    k = j + 1
    while k < start and kind[k] == BLANK:
        k += 1
    return k, bucket


def _may_open_block(c: str) -> bool:
    """False for a line that neither FORWARD_RE nor LABEL_RE can match: both need a colon or a "--" (a quick
    test, as the scan for a forward runs over every line of every body)."""
    return ":" in c or "--" in c or "：" in c


def _outlook_block(clean: list[str], kind: list[int], i: int) -> tuple[bool, int]:
    """Whether consecutive header-label lines from `i` form a From/Sent/To/Subject block; and where they end."""
    roles: list[str] = []
    continuation = 0
    j = i
    while j < len(clean) and kind[j] == TEXT and len(clean[j]) <= MAX_HEADER_LINE:
        match = LABEL_RE.match(clean[j])
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


def header_block_end(clean: list[str], kind: list[int], start: int) -> int:
    """Where the forwarded message's body begins: after the forward marker at `start` (if any), its header
    block ("From:", "Sent:", "Subject:" … in any language, one wrapped line allowed) and the blank lines after."""
    n = len(clean)
    i = start
    if i < n and FORWARD_RE.match(clean[i]):
        i += 1
    while i < n and kind[i] in (BLANK, DECOR):
        i += 1
    labels = 0
    wrapped = False
    while i < n and kind[i] == TEXT:
        if LABEL_RE.match(clean[i]) or LABEL_LIKE_RE.match(clean[i]):
            labels += 1
            wrapped = False
        elif not labels:
            break
        elif wrapped:
            i -= 1  # two lines that are no header: the first of them already began the body
            break
        else:
            wrapped = True  # "Sent: Friday, June 27, 2014 12:06\nPM", or an address list that wrapped
        i += 1
    while i < n and kind[i] == BLANK:
        i += 1
    return i
