"""An HTML body as plain-text lines, each tagged by the quote, header and signature markers clients leave."""

from __future__ import annotations

from html.parser import HTMLParser

from inboxcrm.core.quotes.lines import INVISIBLE

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


class HtmlLines(HTMLParser):
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
        text = text.translate(INVISIBLE)
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
