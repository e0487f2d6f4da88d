"""How every page is answered: Jinja2 templates (`page_templates/`, autoescaped), their filters, the
security headers, and the small responses (a page, a problem page, a redirect) the page routes return."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined

from inboxcrm.core.model import Address
from inboxcrm.web.auth import COOKIE

# The policy asked for, plus `frame-ancestors 'none'` (no other site may frame our pages: clickjacking).
# Nothing needed loosening for the mail frames: a srcdoc document loads nothing, so `frame-src` does not
# apply to it; it inherits this policy and adds its own stricter one (mail_html.FRAME_CSP), and the browser
# enforces both.
PAGE_CSP = (
    "default-src 'none'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-src 'self'; "
    "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
SECURITY_HEADERS: Mapping[str, str] = {
    "Content-Security-Policy": PAGE_CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",  # never to other sites; our own forms then carry a real Origin
    # customer data: never kept in shared caches, nor shown from the back/forward cache after signing out
    "Cache-Control": "no-store",
}

_templates = Environment(
    loader=FileSystemLoader(Path(__file__).with_name("page_templates")),
    autoescape=True,
    undefined=StrictUndefined,  # a misspelt name in a template fails the tests rather than rendering blank
    trim_blocks=True,
    lstrip_blocks=True,
)


def aware(at: datetime) -> datetime:
    """`at` with its zone: the store hands back UTC, and SQLite forgets the zone."""
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def _when(at: datetime | None) -> str:
    return aware(at).astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") if at else "—"


def _address(address: Address | None) -> str:
    if address is None:
        return "—"
    return f"{address.name} <{address.email}>" if address.name else address.email


def _size(octets: int) -> str:
    if octets < 1024:
        return f"{octets:,} bytes"
    if octets < 1024 * 1024:
        return f"{octets / 1024:,.1f} KB"
    return f"{octets / (1024 * 1024):,.1f} MB"


_KIND_LABELS = {
    "message_in": "Message in",
    "message_out": "Message out",
    "note": "Note",
    "score_changed": "Score",
    "stage_changed": "Stage",
    "tags_changed": "Tags",
    "deal_moved": "Deal",
    "mail_sent": "Mail sent",
    "mail_failed": "Mail failed",
    "automatic_mail_held": "Automatic mail held back",
    "contacts_merged": "Contacts merged",
}


def kind_label(kind: str) -> str:
    """A timeline kind for people: `ticket_sla_breached` → "Ticket: sla breached"."""
    if kind in _KIND_LABELS:
        return _KIND_LABELS[kind]
    for prefix in ("ticket", "campaign", "mail", "deal"):
        if kind.startswith(prefix + "_"):
            return f"{prefix.capitalize()}: {kind[len(prefix) + 1 :].replace('_', ' ')}"
    return kind.replace("_", " ").capitalize()


def kind_group(kind: str) -> str:
    """The colour group of a timeline kind (a CSS class suffix)."""
    if kind in {"message_in", "message_out", "note"}:
        return kind
    for group in ("ticket", "campaign", "mail", "score", "stage", "deal"):
        if kind.startswith(group):
            return group
    return "other"


_templates.filters.update(when=_when, address=_address, size=_size, kind_label=kind_label, kind_group=kind_group)


def page(request: Request, template: str, code: int = 200, **context: Any) -> HTMLResponse:
    """The template rendered with `context` (and whether the person is signed in), with `SECURITY_HEADERS`."""
    signed_in = COOKIE in request.cookies or "authorization" in request.headers
    html = _templates.get_template(template).render(signed_in=signed_in, path=request.url.path, **context)
    return HTMLResponse(html, status_code=code, headers=dict(SECURITY_HEADERS))


def problem(request: Request, code: int, title: str, detail: str) -> HTMLResponse:
    """A page saying what went wrong, with status `code`."""
    return page(request, "problem.html", code, title=title, detail=detail)


def redirect(url: str) -> RedirectResponse:
    """A 303 to `url`: after a POST the browser follows with a GET; for GETs it is the same as 302."""
    return RedirectResponse(url, status_code=303, headers=dict(SECURITY_HEADERS))
