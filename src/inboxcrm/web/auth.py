"""Who may call what: API token scopes.

`read` sees contacts, timelines, tickets and reports; `write` may also change them (tags, fields, ticket
status, enrolments, merges); `admin` may also export and erase customer data, manage tokens and read raw
headers. Each scope includes the ones before it. Routers take a `require` function and declare what they
need: `APIRouter(dependencies=[require(Scope.READ)])`. A route that wants to know who calls takes the caller
as a default value, `reader = require(Scope.READ)` … `def route(caller: Caller = reader)`: not as
`Annotated[Caller, require(...)]`, because with postponed annotations FastAPI evaluates annotations in the
module's globals, where a `require` local to a factory function is not found.

The token comes from `Authorization: Bearer <token>` or, for pages, from the `inboxcrm_token` cookie (set by
the sign-in page, not here); the header wins when both are present. A cookie is sent by the browser on its
own, so the page that sets it must make it `HttpOnly` and `SameSite` (Lax or Strict) against cross-site posts.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request
from fastapi.security import APIKeyCookie, HTTPAuthorizationCredentials, HTTPBearer

from inboxcrm.services.access import Access, Caller, RateLimited, Scope

__all__ = ["COOKIE", "Caller", "Require", "Scope", "actor", "authenticate"]

COOKIE = "inboxcrm_token"

# scope → a FastAPI dependency (the result of `Depends(...)`) that lets only callers with that scope through
Require = Callable[[Scope], Any]

_bearer = HTTPBearer(auto_error=False, description="An API token: `Authorization: Bearer <token>`.")
_cookie = APIKeyCookie(name=COOKIE, auto_error=False, description="An API token kept by the pages' sign-in.")


def authenticate(access: Access) -> Require:
    """`require(scope)` → a `Depends(...)` that yields the `Caller`, or answers

    * 401 (with `WWW-Authenticate: Bearer`) for a missing, unknown or revoked token,
    * 429 (with `Retry-After`, in seconds) when the token is over its rate limit,
    * 403 when the token's scope is below `scope` (the detail names the scope needed).

    The caller is identified and counted once per request, however many `require(...)` a route collects
    (router and route): FastAPI caches the shared identifying dependency within a request.
    """

    def identify(
        request: Request,
        bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
        cookie: Annotated[str | None, Depends(_cookie)],
    ) -> Caller:
        # sync on purpose: a stored token costs a query, which FastAPI then runs on its thread pool
        offered = bearer.credentials if bearer is not None else cookie
        caller = access.identify(offered)
        if caller is None:
            raise HTTPException(
                status_code=401, detail="a valid API token is required", headers={"WWW-Authenticate": "Bearer"}
            )
        try:
            access.admit(caller)
        except RateLimited as exc:
            raise HTTPException(
                status_code=429,
                detail=f"too many requests for token {caller.name!r}; retry after {exc.retry_after}s",
                headers={"Retry-After": str(exc.retry_after)},
            ) from None
        request.state.caller = caller  # for `actor(request)`: who made a change, on the timeline and audit log
        return caller

    identified = Depends(identify)  # a default, not an annotation: see the module's docstring

    def needing(scope: Scope) -> Callable[[Caller], Awaitable[Caller]]:
        async def check(caller: Caller = identified) -> Caller:  # no I/O: no thread needed
            if not caller.may(scope):
                raise HTTPException(
                    status_code=403, detail=f"this needs a token with the {scope} scope (this one has {caller.scope})"
                )
            return caller

        return check

    # one dependency per scope, made once: FastAPI's per-request cache knows a dependency by its function
    checks = {scope: Depends(needing(scope)) for scope in Scope}

    def require(scope: Scope) -> Any:
        return checks[scope]

    return require


def actor(request: Request) -> str:
    """The name of the token that made this request (after `require`), for timelines and the audit log."""
    caller = getattr(request.state, "caller", None)
    return caller.name if isinstance(caller, Caller) else "api"
