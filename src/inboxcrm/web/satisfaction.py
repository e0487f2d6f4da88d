"""The "How did we do?" links: GET shows a confirmation page (the chosen answer preselected, an optional
comment); only its POST records the answer — link scanners and mail previews follow links and must never
vote. No sign-in: the signed link is the proof. Self-contained HTML: nothing is loaded from anywhere."""

from __future__ import annotations

from html import escape
from urllib.parse import parse_qs

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from inboxcrm.core.satisfaction import Rating
from inboxcrm.services.satisfaction import MAX_COMMENT, SurveyLinks

_MAX_FORM = 16 * 1024
_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
    "X-Robots-Tag": "noindex",
}
_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>body{{font-family:system-ui,sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem;color:#222}}
label{{display:block;margin:.4rem 0}} textarea{{width:100%;min-height:6rem;font:inherit}}
button{{font-size:1rem;padding:.6rem 1.2rem;border-radius:.4rem;border:1px solid #444;background:#fff}}</style>
</head><body><h1>{title}</h1>{body}</body></html>
"""


def _page(title: str, body: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(_PAGE.format(title=escape(title), body=body), status_code=status, headers=_HEADERS)


def _invalid() -> HTMLResponse:
    return _page("This link does not work", "<p>The link is incomplete or not one of ours.</p>", 404)


async def _form(request: Request) -> dict[str, str]:
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > _MAX_FORM:
            break
    fields = parse_qs(body[:_MAX_FORM].decode("utf-8", "replace"), keep_blank_values=True)
    return {name: values[0] for name, values in fields.items()}


def satisfaction_routes(links: SurveyLinks) -> APIRouter:
    router = APIRouter(include_in_schema=False)

    @router.get("/satisfaction/{token}")
    def ask(token: str) -> HTMLResponse:
        found = links.read(token)
        if found is None:
            return _invalid()
        choices = "".join(
            f'<label><input type="radio" name="rating" value="{r.value}"'
            f"{' checked' if r is found.rating else ''}> {escape(r.label)}</label>"
            for r in Rating
        )
        return _page(
            "How did we do?",
            f"<p>Your request <strong>#{found.ticket_id} {escape(found.subject)}</strong>.</p>"
            f'<form method="post" action="/satisfaction/{escape(token)}">{choices}'
            f'<label>Anything to add? (optional)<textarea name="comment" maxlength="{MAX_COMMENT}"></textarea></label>'
            '<button type="submit">Send my answer</button></form>',
        )

    @router.post("/satisfaction/{token}")
    async def record(token: str, request: Request) -> HTMLResponse:
        form = await _form(request)
        chosen = form.get("rating")
        rating = Rating(chosen) if chosen in {r.value for r in Rating} else None
        found = links.record(token, rating, form.get("comment", ""))
        if found is None:
            return _invalid()
        return _page(
            "Thank you",
            f"<p>We recorded your answer: <strong>{escape(found.rating.label)}</strong>. "
            "You can change it with any of the links in our mail.</p>",
        )

    return router
