"""Text as the full-text index sees it: words, folded and stemmed the same way for every database.

Both engines (SQLite FTS5 and PostgreSQL tsvector) are handed words we made ourselves, so that a search finds
the same messages on either: text is NFC-normalised, split into words (runs of letters and digits; Chinese and
Japanese characters one by one, since those languages put no spaces between words), folded (case, accents:
"Müller" = "muller", "Straße" = "strasse") and stemmed in the index's language by the Snowball stemmers
("invoices" = "invoice"). Queries go through the same steps (`core/search_query.py`), and snippets mark the
words of the text that fold and stem to a searched word.

Pure: strings in, strings out.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import snowballstemmer

from inboxcrm.core.model import Address, Message
from inboxcrm.core.search_vector import tsvector

NO_STEMMING = "none"
DEFAULT_LANGUAGE = "english"
LANGUAGES: tuple[str, ...] = (NO_STEMMING, *sorted(snowballstemmer.algorithms()))

# A word of the index: letters and digits. Longer runs are not words people search for (base64, hashes).
_WORD = re.compile(r"[^\W_]+")
# `_WORD` by translation: every ASCII byte that is not a letter or digit becomes a space (UTF-8's other bytes
# are kept), so `str.split` cuts the text's words several times faster than the regex finds them.
_ASCII_GAPS = bytes(i if i >= 128 or chr(i).isalnum() else 32 for i in range(256))
_MAX_WORD = 64
# Scripts written without spaces between words: each character is a word (a query word becomes a phrase).
_UNSPACED = re.compile(r"([\u3040-\u30ff\u31f0-\u31ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff])")
# What one message contributes at most (characters of each part): the index stays bounded on huge mail.
MAX_PART = 200_000


def fold(word: str) -> str:
    """Case and accents away: `Müller` → `muller`, `ÉCOLE` → `ecole`, `Straße` → `strasse`."""
    decomposed = unicodedata.normalize("NFKD", word)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()


def split_words(text: str) -> list[str]:
    """`_WORD.findall(text)`: the runs of letters and digits, in order (a test keeps the two equal)."""
    spaced = text.encode("utf-8", "surrogatepass").translate(_ASCII_GAPS).decode("utf-8", "surrogatepass")
    pieces = spaced.split()
    if spaced.isascii():
        return pieces
    # A piece may still hold a character that is neither a letter nor a digit beyond ASCII (… « — 。):
    # the regex cuts those few pieces. `str.isalnum` is exactly `_WORD`'s character class.
    return [word for piece in pieces for word in ((piece,) if piece.isalnum() else _WORD.findall(piece))]


def _pieces(word: str) -> Sequence[str]:
    """A word as the index takes it: characters of scripts written without spaces one by one."""
    if word.isascii() or not _UNSPACED.search(word):
        return (word,)
    return [piece for piece in _UNSPACED.split(word) if piece]


class _Memo(dict[str, str]):
    """Index terms by word as written, made on first sight by `made`; bounded, since real mail has endless
    one-off words (a word past the bound is made each time)."""

    def __init__(self, made: Callable[[str], str], bound: int = 200_000) -> None:
        super().__init__()
        self._made = made
        self._bound = bound

    def __missing__(self, word: str) -> str:
        made = self._made(word)
        if len(self) < self._bound:
            self[word] = made
        return made


@dataclass(frozen=True, slots=True)
class Word:
    """A word of a text: where it is (start, end in the NFC text) and its index form."""

    start: int
    end: int
    term: str


class Analyzer:
    """Words → index terms for one language (`LANGUAGES`; "none" folds without stemming)."""

    def __init__(self, language: str = DEFAULT_LANGUAGE) -> None:
        if language not in LANGUAGES:
            raise ValueError(f"unknown search language {language!r} (one of: {', '.join(LANGUAGES)})")
        self.language = language
        self._stemmer = None if language == NO_STEMMING else snowballstemmer.stemmer(language)
        # mail repeats its words: folding and stemming each distinct word once is most of the speed
        self._memo = _Memo(self._made)

    def _made(self, word: str) -> str:
        folded = fold(word)
        made = "" if len(folded) > _MAX_WORD else folded
        if made and self._stemmer is not None:
            made = self._stemmer.stemWord(made)
        return made

    def term(self, word: str) -> str:
        """One word as written → its index term (folded, stemmed); "" for none (too long)."""
        return self._memo[word]

    def words(self, text: str) -> Iterator[Word]:
        """The words of `text` (taken NFC-normalised), in order."""
        for match in _WORD.finditer(text):
            start = match.start()
            word = match.group()
            pieces = _UNSPACED.split(word) if _UNSPACED.search(word) else (word,)
            for piece in pieces:
                if piece:
                    term = self.term(piece)
                    if term:
                        yield Word(start, start + len(piece), term)
                    start += len(piece)

    def terms(self, text: str) -> list[str]:
        """The index terms of `text`, in order: what `words` gives, without the positions (this runs on every
        stored message, so words are cut by translation, known words are looked up all at once, and only a
        text holding a character of an unspaced script is cut character by character)."""
        text = unicodedata.normalize("NFC", text[:MAX_PART])
        words = split_words(text)
        if not text.isascii() and _UNSPACED.search(text):
            words = [piece for word in words for piece in _pieces(word)]
        return list(filter(None, map(self._memo.__getitem__, words)))

    def indexed(self, text: str) -> str:
        """`text` as the index stores it: its terms separated by spaces."""
        return " ".join(self.terms(text))


@dataclass(frozen=True, slots=True)
class MessageText:
    """What search reads of a message: who wrote it, to whom, its subject, its body and attachment names."""

    sender: str
    recipients: str
    subject: str
    body: str


# The parts of a message in the index, in this order: SQLite's columns, PostgreSQL's weights A, B, C, D.
PARTS = ("sender", "recipients", "subject", "body")


def message_terms(analyzer: Analyzer, text: MessageText) -> tuple[list[str], list[str], list[str], list[str]]:
    """The index terms of each part of a message (`PARTS` order)."""
    return (
        analyzer.terms(text.sender),
        analyzer.terms(text.recipients),
        analyzer.terms(text.subject),
        analyzer.terms(text.body),
    )


def _names(addresses: Sequence[Address]) -> str:
    return " ".join(f"{a.name} {a.email}" for a in addresses)


def message_text(message: Message) -> MessageText:
    """What the index reads of a parsed message: the same text as of the row it is stored as (the stored
    row's reading is in adapters/db/search.py; a test keeps the two equal)."""
    sender = f"{message.from_.name} {message.from_.email}" if message.from_ else " "
    files = " ".join(a.filename for a in message.attachments)
    return MessageText(
        sender=sender,
        recipients=f"{_names(message.to)} {_names(message.cc)}",
        subject=message.subject or "",
        body=f"{message.text or ''}\n{files}",
    )


@dataclass(frozen=True, slots=True)
class IndexedText:
    """A message's index terms in one language: each part's terms joined by spaces (`PARTS` order). Made
    where the message is read (a parsing process), so that the process that stores it only writes them."""

    language: str
    parts: tuple[str, str, str, str]
    vector: str | None = None  # the parts as PostgreSQL's tsvector literal, when asked for (made where read)

    @staticmethod
    def of(
        language: str, terms: tuple[list[str], list[str], list[str], list[str]], vector: bool = False
    ) -> IndexedText:
        sender, recipients, subject, body = (" ".join(part) for part in terms)
        return IndexedText(language, (sender, recipients, subject, body), tsvector(terms) if vector else None)

    def terms(self) -> tuple[list[str], list[str], list[str], list[str]]:
        sender, recipients, subject, body = (part.split() for part in self.parts)
        return sender, recipients, subject, body


def indexed_text(analyzer: Analyzer, message: Message, vector: bool = False) -> IndexedText:
    """`message` as the index stores it, in the analyzer's language (`vector`: also as PostgreSQL's)."""
    return IndexedText.of(analyzer.language, message_terms(analyzer, message_text(message)), vector)


# -- snippets

MARK_START, MARK_END = "<mark>", "</mark>"


@dataclass(frozen=True, slots=True)
class Wanted:
    """The terms a snippet marks: exact terms, and prefixes (a query's `invo*`)."""

    exact: frozenset[str]
    prefixes: tuple[str, ...] = ()

    def __call__(self, term: str) -> bool:
        return term in self.exact or any(term.startswith(p) for p in self.prefixes)


def snippet(analyzer: Analyzer, text: str, wanted: Wanted, words: int = 30) -> str:
    """About `words` words of `text` around the first searched word, HTML-escaped, searched words in
    <mark>…</mark>; the start of the text when no searched word is in it. "…" where text was left out."""
    text = unicodedata.normalize("NFC", text[:MAX_PART])
    found: list[Word] = []
    first = -1
    for word in analyzer.words(text):  # read only as far as the window after the first searched word
        found.append(word)
        if first < 0 and wanted(word.term):
            first = len(found) - 1
        if (first >= 0 and len(found) > first + words) or (first < 0 and len(found) > 20_000):
            break
    if not found:
        return html.escape(" ".join(text.split()[:words]))
    first = max(first, 0)
    begin = max(0, first - words // 4)
    chosen = found[begin : begin + words]
    start = chosen[0].start if begin > 0 else 0
    end = chosen[-1].end if begin + words < len(found) or len(found) > first + words else len(text)
    return ("… " if start > 0 else "") + mark(text, chosen, wanted, start, end) + (" …" if end < len(text) else "")


def mark(text: str, found: Sequence[Word], wanted: Wanted, start: int = 0, end: int | None = None) -> str:
    """`text[start:end]`, HTML-escaped, with the words `wanted` takes in <mark>…</mark>, whitespace collapsed."""
    stop = len(text) if end is None else end
    out: list[str] = []
    at = start
    for word in found:
        if word.start < start or word.end > stop or not wanted(word.term):
            continue
        out += [html.escape(text[at : word.start]), MARK_START, html.escape(text[word.start : word.end]), MARK_END]
        at = word.end
    out.append(html.escape(text[at:stop]))
    joined = re.sub(r"\s+", " ", "".join(out)).strip()
    # neighbouring marks of one phrase ("<mark>late</mark> <mark>delivery</mark>") read better as one
    return joined.replace(f"{MARK_END} {MARK_START}", " ").replace(MARK_END + MARK_START, "")


def marked(analyzer: Analyzer, text: str, wanted: Wanted) -> str:
    """All of a short `text` (a subject), HTML-escaped, searched words marked."""
    text = unicodedata.normalize("NFC", text)
    return mark(text, list(analyzer.words(text)), wanted)
