"""The unsubscribe link in campaign mail: GET shows a confirmation page with a button (link scanners and
previews follow links and must never unsubscribe anyone); POST unsubscribes at once (RFC 8058 one-click,
which mailbox providers send as `List-Unsubscribe=One-Click`). No token or sign-in: the signed link is the
proof. Pages are self-contained HTML: nothing is loaded from anywhere."""

from __future__ import annotations

from html import escape

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from inboxcrm.services.outreach import Unsubscribes

_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}
_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>body{{font-family:system-ui,sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem;color:#222}}
button{{font-size:1rem;padding:.6rem 1.2rem;border-radius:.4rem;border:1px solid #444;background:#fff}}</style>
</head><body><h1>{title}</h1>{body}</body></html>
"""


def _page(title: str, body: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(_PAGE.format(title=escape(title), body=body), status_code=status, headers=_HEADERS)


def _invalid() -> HTMLResponse:
    return _page("This link does not work", "<p>The unsubscribe link is incomplete or not one of ours.</p>", 404)


def unsubscribe_routes(unsubscribes: Unsubscribes) -> APIRouter:
    router = APIRouter(include_in_schema=False)

    @router.get("/unsubscribe/{token}")
    def ask(token: str) -> HTMLResponse:
        found = unsubscribes.read(token)
        if found is None:
            return _invalid()
        email, campaign = found
        return _page(
            "Unsubscribe?",
            f"<p>Stop all campaign mail to <strong>{escape(email)}</strong> (you got it from "
            f"<em>{escape(campaign)}</em>)?</p>"
            f'<form method="post" action="/unsubscribe/{escape(token)}">'
            '<button type="submit" name="List-Unsubscribe" value="One-Click">Unsubscribe</button></form>',
        )

    @router.post("/unsubscribe/{token}")
    def confirm(token: str) -> HTMLResponse:
        found = unsubscribes.confirm(token)
        if found is None:
            return _invalid()
        return _page(
            "You are unsubscribed",
            f"<p>No campaign will mail <strong>{escape(found[0])}</strong> again. Replies to our support and sales "
            "addresses still reach us as before.</p>",
        )

    return router
