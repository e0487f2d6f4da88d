"""Forms that change things from a page, safe from cross-site requests.

Three checks, each enough on its own in today's browsers, together for older ones and odd proxies: the
sign-in cookie is `SameSite=Strict` (`sign_in.py`); a POST whose `Sec-Fetch-Site` says another site (or, from
a browser too old to send it, whose `Origin` names another host) is refused; and every form carries a CSRF
token in a hidden field that the POST must send back. The token is an HMAC, under a key made when the app
starts, of the session: a random value kept in the `inboxcrm_session` cookie (HttpOnly, SameSite=Strict, made
at sign-in, or by the first page that needs it) and the credential the request came with. Another site can
neither read the page nor compute the token; a new sign-in (a new session) or a restart makes old forms
stale, and such a POST gets a page saying to reload, not a change.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from urllib.parse import urlsplit

from fastapi import Request, Response

from inboxcrm.web.auth import COOKIE

SESSION_COOKIE = "inboxcrm_session"
FIELD = "csrf"


def new_key() -> bytes:
    """A key for the tokens of one running app."""
    return secrets.token_bytes(32)


def _session(request: Request) -> str:
    return getattr(request.state, "csrf_session", None) or request.cookies.get(SESSION_COOKIE, "")


def _credential(request: Request) -> str:
    header = request.headers.get("authorization", "")
    return header or request.cookies.get(COOKIE, "")


def new_session(request: Request) -> str:
    """A new session value for this request; the response must keep it (`keep_session`)."""
    value = secrets.token_urlsafe(24)
    request.state.csrf_session = value
    return value


def keep_session(response: Response, value: str, secure: bool) -> None:
    response.set_cookie(SESSION_COOKIE, value, path="/", secure=secure, httponly=True, samesite="strict")


def start_session(request: Request, response: Response, secure: bool) -> None:
    """Give the browser a new session value (signing in starts a new session)."""
    keep_session(response, new_session(request), secure)


def end_session(response: Response, secure: bool) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/", secure=secure, httponly=True, samesite="strict")


def form_token(key: bytes, request: Request) -> str:
    """The token for this request's session (call `start_session` first when there is none yet)."""
    material = f"{_session(request)}\0{_credential(request)}".encode()
    return hmac.new(key, material, hashlib.sha256).hexdigest()


def has_session(request: Request) -> bool:
    return bool(_session(request))


def token_ok(key: bytes, request: Request, sent: str | None) -> bool:
    """Whether `sent` is this session's token (a request without a session has none)."""
    return bool(sent) and has_session(request) and hmac.compare_digest(form_token(key, request), sent or "")


def _our_hosts(request: Request) -> set[str]:
    """The host[:port] names this site answers as: the Host header, and what a proxy says it forwarded."""
    hosts = {request.headers.get("host", "")}
    hosts.update(h.strip() for h in request.headers.get("x-forwarded-host", "").split(","))
    for element in request.headers.get("forwarded", "").replace(",", ";").split(";"):
        name, _, value = element.strip().partition("=")
        if name.lower() == "host":
            hosts.add(value.strip('"'))
    return {h.lower() for h in hosts if h}


def cross_site(request: Request) -> bool:
    """A form posted from another site (login CSRF, forced sign-out). Browsers say so in Sec-Fetch-Site; the
    Origin header (sent with every cross-origin POST, also by browsers that do not send Sec-Fetch-Site) must
    then name this site: the Host the browser asked for, or the one a proxy says it forwarded. Requests
    with neither header (curl, old clients) carry no cookie a browser was tricked into sending."""
    if request.headers.get("sec-fetch-site", "same-origin") in {"cross-site", "same-site"}:
        return True
    origin = request.headers.get("origin")
    if origin is None:
        return False
    return origin == "null" or urlsplit(origin).netloc.lower() not in _our_hosts(request)
