"""The search page behind the search box of every page (`/search/page?q=…`): messages found, newest first,
with the words found marked, and the contacts found. Built with the pages' templates and sign-in handling."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlencode

from fastapi import APIRouter, Request, Response
from markupsafe import Markup

from inboxcrm.core.search_query import QueryProblem
from inboxcrm.core.views import ContactView
from inboxcrm.services.search import SearchService
from inboxcrm.web.auth import Require, Scope
from inboxcrm.web.render import page, problem
from inboxcrm.web.sign_in import SignedInPage


def search_page_routes(
    search: SearchService, contact: Callable[[int], ContactView | None], require: Require
) -> APIRouter:
    router = APIRouter(route_class=SignedInPage, dependencies=[require(Scope.READ)], include_in_schema=False)

    @router.get("/search/page")
    def search_page(request: Request, q: str = "", cursor: str | None = None) -> Response:
        query = q.strip()[:2000]
        if not query:
            return page(request, "search.html", title="Search", q="", hits=[], contacts=[], next_url=None)
        try:
            found = search.search(query, cursor, 25)
        except QueryProblem as exc:
            return problem(request, 400, "Cannot read that search", str(exc))
        # snippets and subjects are escaped by the search, with only <mark> added: safe as they are
        hits = [(h, Markup(h.subject), Markup(h.snippet)) for h in found.messages]
        contacts = [c for c in (contact(i) for i in found.contact_ids) if c is not None]
        more = urlencode({"q": query, "cursor": found.next_cursor}) if found.next_cursor else None
        return page(
            request,
            "search.html",
            title=f"Search: {query}",
            q=query,
            hits=hits,
            contacts=contacts,
            next_url=f"/search/page?{more}" if more else None,
        )

    return router
