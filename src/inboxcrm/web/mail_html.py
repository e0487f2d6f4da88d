"""HTML mail bodies made safe to show: sanitised with nh3, then wrapped in a document of its own for an
`<iframe sandbox srcdoc="…">`.

Three layers, each enough to stop a remote load or a script on its own:

1. nh3 (ammonia) keeps a fixed list of tags and attributes; scripts, event handlers, forms, `<style>` blocks,
   `javascript:` and relative URLs go. Images keep their `src` only for `cid:` and `data:image/…`, so remote
   images (tracking pixels) never load; inline styles keep a list of layout and colour properties and lose
   every declaration with `url(`.
2. The frame document carries its own Content-Security-Policy (`default-src 'none'; style-src 'unsafe-inline';
   img-src data:`), which also binds anything the sanitiser let through.
3. The page puts it in `<iframe sandbox="allow-popups allow-popups-to-escape-sandbox">`: no scripts, no forms,
   an opaque origin (no cookies, nothing of ours to read), no navigation of our page. The popup permissions
   only let a click on a link (all links get `target="_blank"`, `rel="noopener noreferrer"`) open it in a
   new tab, outside our page.
"""

from __future__ import annotations

import re

import nh3

FRAME_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
FRAME_SANDBOX = "allow-popups allow-popups-to-escape-sandbox"

_TAGS = (nh3.ALLOWED_TAGS | {"font", "tfoot", "center"}) - {"area", "map"}
_TABLE_CELL = {"align", "valign", "bgcolor", "width", "height", "colspan", "rowspan", "nowrap"}
_ATTRIBUTES: dict[str, set[str]] = {
    "*": {"style", "title", "lang", "dir", "align"},
    "a": {"href", "hreflang"},
    "img": {"src", "alt", "width", "height", "border"},
    "font": {"color", "face", "size"},
    "table": {"width", "height", "border", "cellpadding", "cellspacing", "bgcolor", "summary"},
    "tr": {"valign", "bgcolor", "height"},
    "td": _TABLE_CELL,
    "th": _TABLE_CELL | {"scope"},
    "col": {"span", "width"},
    "colgroup": {"span", "width"},
    "ol": {"start", "type"},
    "ul": {"type"},
    "li": {"value"},
    "blockquote": {"cite"},
    "q": {"cite"},
    "del": {"datetime"},
    "ins": {"datetime"},
    "hr": {"width", "size", "noshade"},
}
# Layout, type and colour; nothing that takes a URL (background, background-image, list-style-image,
# border-image, content, cursor) and nothing that lifts content out of the frame's flow (position).
_STYLE_PROPERTIES = {
    "color",
    "background-color",
    "font",
    "font-family",
    "font-size",
    "font-style",
    "font-weight",
    "font-variant",
    "line-height",
    "letter-spacing",
    "word-spacing",
    "text-align",
    "text-decoration",
    "text-indent",
    "text-transform",
    "white-space",
    "word-break",
    "overflow-wrap",
    "vertical-align",
    "direction",
    "display",
    "width",
    "min-width",
    "max-width",
    "height",
    "min-height",
    "max-height",
    "margin",
    "margin-top",
    "margin-right",
    "margin-bottom",
    "margin-left",
    "padding",
    "padding-top",
    "padding-right",
    "padding-bottom",
    "padding-left",
    "border",
    "border-top",
    "border-right",
    "border-bottom",
    "border-left",
    "border-color",
    "border-style",
    "border-width",
    "border-radius",
    "border-collapse",
    "border-spacing",
    "list-style-type",
    "table-layout",
}
# Schemes nh3 lets through to the attribute filter: links may be web, mail or phone; cid: and data: are
# only ever kept on an <img src> (see `_attribute`).
_URL_SCHEMES = {"http", "https", "mailto", "tel", "cid", "data"}
_INLINE_IMAGE = re.compile(r"\s*(cid:|data:image/)", re.IGNORECASE)
_LOADS_SOMETHING = re.compile(r"url\s*\(|image-set\s*\(|expression\s*\(|@import", re.IGNORECASE)


def _attribute(tag: str, name: str, value: str) -> str | None:
    """nh3's attribute filter: None removes the attribute."""
    if tag == "img" and name == "src":
        # a remote (or relative) image would tell the sender when and where the mail was read
        return value if _INLINE_IMAGE.match(value) else None
    if name in {"href", "cite"} and re.match(r"\s*(cid|data):", value, re.IGNORECASE):
        return None  # a data: document opened from a link is a phishing page with our page's trust
    if name == "style":
        kept = [d for d in value.split(";") if d.strip() and not _LOADS_SOMETHING.search(d)]
        return ";".join(kept) or None
    return value


_CLEANER = nh3.Cleaner(
    tags=_TAGS,
    clean_content_tags={"script", "style", "title", "head", "noscript", "template", "textarea", "select"},
    attributes=_ATTRIBUTES,
    attribute_filter=_attribute,
    strip_comments=True,
    link_rel="noopener noreferrer",
    set_tag_attribute_values={"a": {"target": "_blank"}},
    url_schemes=_URL_SCHEMES,
    filter_style_properties=_STYLE_PROPERTIES,
    # relative URLs would resolve against our own page (a srcdoc document has its parent's base URL)
    url_relative="deny",
)


def sanitise(html: str) -> str:
    """The mail's HTML with only safe markup left: no scripts or handlers, no remote or relative URLs in
    images, no `javascript:`/`data:` links, inline styles without anything that loads. (nh3 does not keep
    the order of attributes.)"""
    return _CLEANER.clean(html)


def frame_document(html: str) -> str:
    """A whole document for `<iframe srcdoc>`: the sanitised body under the frame's own CSP, white background
    (mail is written for one), long words wrapped so the frame does not scroll sideways on a phone."""
    return (
        '<!doctype html><html><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{FRAME_CSP}">'
        '<meta name="referrer" content="no-referrer">'
        "<style>html{background:#fff;color:#111}body{margin:8px;font:15px/1.45 system-ui,sans-serif;"
        "overflow-wrap:anywhere}img{max-width:100%;height:auto}table{max-width:100%}</style>"
        f"</head><body>{sanitise(html)}</body></html>"
    )
