"""Splitting an HTML body: the markers of Gmail, Outlook on the web, Apple Mail, Thunderbird and Yahoo, and markup
that is broken."""

from __future__ import annotations

import pytest

from inboxcrm.core.quotes import split_html
from tests.core.quotes_support import Case, check

GMAIL_HTML = (
    '<div dir="ltr">Sounds good, Tuesday.<br clear="all"><div><br></div>-- <br><div dir="ltr" class="gmail_signature">'
    'Ana Lima<br>Northwind Tools</div></div><br><div class="gmail_quote"><div dir="ltr" class="gmail_attr">'
    'On Mon, Nov 2, 2026 at 9:12 AM Priya Raman &lt;<a href="mailto:priya@globex.example">priya@globex.example</a>&gt;'
    ' wrote:<br></div><blockquote class="gmail_quote" style="margin:0 0 0 .8ex;border-left:1px #ccc solid">'
    '<div dir="ltr">Can you ship Tuesday?</div></blockquote></div>'
)
HTML_CASES = [
    Case(
        "gmail reply with signature",
        GMAIL_HTML,
        "Sounds good, Tuesday.",
        quoted="On Mon, Nov 2, 2026",
        signature="--\nAna Lima\nNorthwind Tools",
    ),
    Case(
        "gmail forward",
        '<div dir="ltr">Take this?<br><br><div class="gmail_quote"><div dir="ltr" class="gmail_attr">'
        "---------- Forwarded message ---------<br>From: Priya &lt;priya@globex.example&gt;<br>Date: Mon, 2 Nov 2026"
        "<br>Subject: Broken<br>To: Ana<br></div><br><div>Broken.</div></div></div>",
        "Take this?",
        forwarded="---------- Forwarded message",
    ),
    Case(
        "outlook web divRplyFwdMsg",
        '<div>Please see below.</div><div id="appendonsend"></div><hr>'
        '<div id="divRplyFwdMsg"><b>From:</b> Priya &lt;priya@globex.example&gt;<br><b>Sent:</b> Monday<br>'
        "<b>To:</b> Ana<br><b>Subject:</b> order</div><div>Old text</div>",
        "Please see below.",
        forwarded="From: Priya",
    ),
    Case(
        "outlook web marker without a header block",
        '<div>Reply here</div><div id="x_divRplyFwdMsg"></div><div>Old text</div>',
        "Reply here",
        quoted="Old text",
    ),
    Case(
        "OutlookMessageHeader",
        '<div>Noted.</div><div class="OutlookMessageHeader"><b>From:</b> Priya<br>'
        "<b>Sent:</b> Monday<br><b>To:</b> Ana<br><b>Subject:</b> x</div><div>Old</div>",
        "Noted.",
        forwarded="From: Priya",
    ),
    Case(
        "apple mail blockquote",
        '<body>Works for me.<div><br><blockquote type="cite">On 2 Nov 2026, at 09:12, '
        'Priya &lt;priya@globex.example&gt; wrote:<br><br></blockquote></div><blockquote type="cite">'
        "<div>Tuesday?</div></blockquote></body>",
        "Works for me.",
        quoted="On 2 Nov 2026",
    ),
    Case(
        "thunderbird moz-cite-prefix and moz-signature",
        '<p>Fine by me.</p><div class="moz-cite-prefix">'
        'On 02/11/2026 09:12, Priya Raman\n wrote:<br></div><blockquote type="cite">Tuesday?</blockquote>'
        '<pre class="moz-signature" cols="72">-- \nAna Lima</pre>',
        "Fine by me.",
        quoted="On 02/11/2026 09:12",
        signature="--\nAna Lima",
    ),
    Case(
        "gmail indent is the sender's text",
        '<div>Plan:</div><blockquote style="margin:0 0 0 40px;border:none;'
        'padding:0px"><div>Step one</div></blockquote><div>Done.</div>',
        "Plan:\nStep one\nDone.",
    ),
    Case(
        "yahoo_quoted",
        '<div>Yes</div><div id="yahoo_quoted_123" class="yahoo_quoted"><div>On Monday, November 2, '
        "2026, 09:12 AM GMT, Priya &lt;priya@globex.example&gt; wrote:</div><div>Tuesday?</div></div>",
        "Yes",
        quoted="On Monday, November 2",
    ),
    Case(
        "scripts and styles are not text",
        "<html><head><style>p{}</style><script>var x = 1;</script></head><body><p>Hi &amp; bye</p></body></html>",
        "Hi & bye",
    ),
]


@pytest.mark.parametrize("case", HTML_CASES, ids=lambda c: c.name)
def test_split_html(case: Case) -> None:
    check(case, split_html(case.body))


def test_html_never_raises_on_broken_markup() -> None:
    for html in ("<div><p>Hello<blockquote>quoted<p>still</div>after", "<!", "<![CDATA[x", "<a href='x", "</b></i>x"):
        split_html(html)
