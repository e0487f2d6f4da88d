"""Signing in and out: the sign-in page, the cookie that keeps the token, and the route class that turns a
refused token into pages for a person with a browser.

The person pastes an API token; it is kept in the cookie `inboxcrm_token` (HttpOnly, SameSite=Strict, Path=/,
Secure unless the request is plain http to a loopback host; see `secure_cookie`). Signed-in pages declare
`require(Scope.READ)` like any router, and `require` (`inboxcrm.web.auth`) reads the token from the bearer
header or that cookie. A refusal by `require` (an `HTTPException`) is turned into pages by `SignedInPage`, not
by an app-wide exception handler (which would change the JSON API too): 401 → a redirect to
`/sign-in?next=…`, 403 → an HTML page, 429 → an HTML page with `Retry-After`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Coroutine
from typing import Annotated, Any
from urllib.parse import parse_qs, urlencode

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import HTMLResponse
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException

from inboxcrm.web.auth import COOKIE
from inboxcrm.web.csrf import cross_site, end_session, start_session
from inboxcrm.web.render import page, problem, redirect

HOME = "/tickets/page"
_LOOPBACK_HOSTS = {"localhost", "127.0.0.1", "::1"}
_TOKEN = re.compile(r"[\x21-\x7e]{1,512}")  # printable ASCII, no spaces: a token, not a pasted sentence
_MAX_FORM = 8 * 1024


def _proxied(request: Request) -> bool:
    return "x-forwarded-proto" in request.headers or "forwarded" in request.headers


def secure_cookie(request: Request) -> bool:
    """Whether the sign-in cookie gets the Secure flag: always, except for plain http to a loopback host
    name (the demo at http://127.0.0.1:8000), where browsers and http clients that refuse Secure cookies over
    http would otherwise never keep the sign-in. Plain http to any other host still gets Secure, so the
    browser drops the cookie rather than send a token in clear text; a request that came through a proxy
    (X-Forwarded-Proto / Forwarded) gets Secure whatever the proxy called the upstream host."""
    if _proxied(request):
        return True
    host = (request.url.hostname or "").lower().strip("[]")
    local = host in _LOOPBACK_HOSTS or host.endswith(".localhost")
    return not (request.url.scheme == "http" and local)


def _safe_next(value: str | None) -> str:
    """Where to go after signing in: a path on this site only (never `//host`, never a scheme)."""
    if (
        value
        and value.startswith("/")
        and not value.startswith("//")
        and "\\" not in value
        and value.isprintable()
        and len(value) <= 2000
        and not value.startswith("/sign-")
    ):
        return value
    return HOME


async def small_form(request: Request) -> dict[str, str] | None:
    """The fields of a small urlencoded form, or None when the body is not one (or is too big)."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind != "application/x-www-form-urlencoded":
        return None
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > _MAX_FORM:
            return None
    fields = parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
    return {name: values[0] for name, values in fields.items()}


class SignedInPage(APIRoute):
    """A page route: a refusal by the route's dependencies (`require`) is answered for a person with a
    browser, not with JSON: no or a bad token → the sign-in page (a refused cookie is dropped on the way),
    a token without the scope or over its rate limit → an HTML page saying so."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def handle(request: Request) -> Response:
            try:
                return await handler(request)
            except HTTPException as exc:
                cookie = COOKIE in request.cookies
                offered = cookie or "authorization" in request.headers
                # 403 without any credentials: what older FastAPI security classes answer for "not signed in"
                if exc.status_code == 401 or (exc.status_code == 403 and not offered):
                    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
                    query = {"next": target} | ({"expired": "1"} if cookie else {})
                    response: Response = redirect("/sign-in?" + urlencode(query))
                    if cookie:  # it was refused: drop it, or every page would bounce back here
                        _forget_cookie(response, request)
                    return response
                if exc.status_code == 403:
                    detail = (
                        "This token may not read contacts and tickets: sign out and sign in with another."
                        if request.method == "GET"
                        else "This token may only read: changes need a token with the write scope."
                    )
                    return problem(request, 403, "Not allowed", detail)
                if exc.status_code == 429:
                    response = problem(request, 429, "Too many requests", "Wait a moment, then reload the page.")
                    response.headers.update({k: v for k, v in (exc.headers or {}).items() if k == "Retry-After"})
                    return response
                raise

        return handle


def _forget_cookie(response: Response, request: Request) -> None:
    response.delete_cookie(COOKIE, path="/", secure=secure_cookie(request), httponly=True, samesite="strict")
    end_session(response, secure_cookie(request))


def _sign_in_page(request: Request, next_url: str, error: str, code: int = 200) -> HTMLResponse:
    # plain http to a host that is not this machine: the Secure cookie would be dropped, so say why
    insecure = request.url.scheme == "http" and not _proxied(request) and secure_cookie(request)
    return page(request, "sign_in.html", code, title="Sign in", next_url=next_url, error=error, insecure=insecure)


def sign_in_routes() -> APIRouter:
    """`/` (to the tickets or the sign-in page), `/sign-in` (the form and its POST) and `/sign-out`."""
    router = APIRouter(include_in_schema=False)

    @router.get("/")
    def home(request: Request) -> Response:
        signed_in = COOKIE in request.cookies or "authorization" in request.headers
        return redirect(HOME if signed_in else "/sign-in")

    @router.get("/sign-in")
    def sign_in_form(
        request: Request, next_url: Annotated[str | None, Query(alias="next")] = None, expired: str | None = None
    ) -> Response:
        error = "Your token was not accepted. Sign in again." if expired else ""
        return _sign_in_page(request, _safe_next(next_url), error)

    @router.post("/sign-in")
    async def sign_in(request: Request) -> Response:
        if cross_site(request):
            return problem(request, 403, "Not allowed", "Sign in from this site's own sign-in page.")
        form = await small_form(request)
        if form is None:
            return problem(request, 400, "Bad request", "Send the sign-in form.")
        token = form.get("token", "").strip()
        next_url = _safe_next(form.get("next"))
        if not _TOKEN.fullmatch(token):
            return _sign_in_page(request, next_url, "Paste an API token (printable characters, no spaces).", 400)
        # Not checked here: the page it leads to checks it, and a refused token comes back with a message.
        response = redirect(next_url)
        response.set_cookie(COOKIE, token, path="/", secure=secure_cookie(request), httponly=True, samesite="strict")
        start_session(request, response, secure_cookie(request))  # the forms' CSRF tokens: see csrf.py
        return response

    @router.post("/sign-out")
    def sign_out(request: Request) -> Response:
        if cross_site(request):
            return problem(request, 403, "Not allowed", "Sign out from this site's own pages.")
        response = redirect("/sign-in")
        _forget_cookie(response, request)
        return response

    return router
