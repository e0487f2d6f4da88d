"""Subjects as people mean them: without the reply and forward prefixes mail clients stack up.

`normalise_subject("RE[2]: AW: [acme-users] Fwd: Invoice  42")` is `"invoice 42"`. The result is for
comparing subjects (grouping messages into conversations), never for display.
"""

from __future__ import annotations

import re
import unicodedata

# Reply and forward prefixes as mail clients write them, by language. Outlook translates them, so one
# conversation can collect "RE:", "AW:" and "SV:" as it crosses offices. Single letters (Italian Outlook's
# "R:" and "I:") are left out on purpose: "I: …" is too likely to be a real subject.
_REPLY_WORDS = (
    "re",  # Latin "in re"; nearly every client
    "aw",  # German "Antwort"
    "antw",  # Dutch "Antwoord", German "Antwort"
    "antwort",  # German, older Outlook
    "sv",  # Swedish, Danish, Norwegian, Icelandic "svar"
    "vs",  # Finnish "vastaus"; Danish and Norwegian "videresendt" (a forward, but the same job)
    "odp",  # Polish "odpowiedź", Czech "odpověď"
    "ynt",  # Turkish "yanıt"
    "res",  # Portuguese "resposta"
    "rif",  # Italian "riferimento"
    "ats",  # Lithuanian "atsakymas"
    "atb",  # Latvian "atbilde"
    "vá",  # Hungarian "válasz"
    "bls",  # Indonesian "balas"
    "απ",  # Greek "απάντηση"
    "σχετ",  # Greek "σχετικά"
    "השב",  # Hebrew
    "رد",  # Arabic, Persian
    "回复",  # Chinese (simplified)
    "回覆",  # Chinese (traditional)
    "答复",  # Chinese (simplified), Outlook
    "答覆",  # Chinese (traditional), Outlook
    "返信",  # Japanese
    "답장",  # Korean
    "회신",  # Korean, Outlook
)
_FORWARD_WORDS = (
    "fw",
    "fwd",
    "wg",  # German "Weitergeleitet"
    "doorst",  # Dutch "Doorsturen"
    "tr",  # French "Transfert"
    "rv",  # Spanish "Reenviado"
    "enc",  # Portuguese "Encaminhado"
    "vb",  # Swedish "Vidarebefordrat"
    "vl",  # Finnish "Välitetty"
    "fs",  # Icelandic "Framsent"
    "pd",  # Polish "Przekazanie dalej"
    "př",  # Czech "Přeposláno"
    "ilt",  # Turkish "İlet"
    "tov",  # Hungarian "Továbbítás"
    "prsn",  # Lithuanian "Persiųsta"
    "trs",  # Indonesian "Terusan"
    "πρθ",  # Greek "Προώθηση"
    "הועבר",  # Hebrew
    "转发",  # Chinese (simplified)
    "轉寄",  # Chinese (traditional)
    "转寄",
    "轉發",
    "転送",  # Japanese
    "전달",  # Korean
)
# Longest first, so "fwd" is not read as "fw" followed by a stray "d".
_WORDS = sorted({*_REPLY_WORDS, *_FORWARD_WORDS}, key=len, reverse=True)
# A prefix is a word, an optional counter ("RE[2]:", "Re^3:", "Re(2):", "RE*2:"), and a colon; French
# typography puts a space before the colon ("TR :"). NFKC has already turned "：" into ":".
_PREFIX = re.compile(
    r"(?:" + "|".join(re.escape(w) for w in _WORDS) + r")\s*(?:\[\d+\]|\(\d+\)|\^\d+|\*\d+)?\s*:\s*",
    re.IGNORECASE,
)
# "[acme-users]", "[#123]", "[support.example.com #33575]", "[PATCH v2 1/3]": one bracketed token, no nesting.
_TAG = re.compile(r"\[[^\[\]\n]{1,80}\]\s*")
# Ticket tokens that helpdesks append at the end ("Printer on fire [#123]"), and pine's "(fwd)".
_TRAILER = re.compile(r"\s*(?:\[(?:[^\[\]\n]{0,60}\s)?#\s?\d+\]|\(fwd\))\s*$", re.IGNORECASE)


def _strip(subject: str) -> tuple[str, bool]:
    """(subject without prefixes, tags and trailers; whether a reply or forward prefix was among them)."""
    text = unicodedata.normalize("NFKC", subject).strip()
    replied = False
    while True:
        prefix = _PREFIX.match(text)
        if prefix:
            replied = True
            text = text[prefix.end() :]
            continue
        tag = _TAG.match(text)
        # A subject that is nothing but a bracketed token keeps it: "[urgent]" alone is the subject.
        if tag and text[tag.end() :].strip():
            text = text[tag.end() :]
            continue
        break
    while True:
        trailer = _TRAILER.search(text)
        if not trailer or trailer.start() == 0:
            break
        text = text[: trailer.start()]
    return text, replied


def normalise_subject(subject: str) -> str:
    """`subject` without leading reply/forward prefixes (many languages, stacked, with counters), mailing-list
    tags and ticket tokens, casefolded, with runs of whitespace made one space. Equal results mean "the
    same subject"; an empty result means there is nothing to compare."""
    text, _ = _strip(subject)
    return " ".join(text.casefold().split())


def has_reply_prefix(subject: str) -> bool:
    """True when `subject` starts (after any list tags) with a reply or forward prefix such as "Re:" or "AW:"."""
    return _strip(subject)[1]
