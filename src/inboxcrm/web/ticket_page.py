"""The ticket page: its header and SLA clocks, its activity (messages and events, oldest first; an agent's
reply as the customer received it), and for a write-scope token a form that changes its status, assignee and
priority through the same service as the API's `PATCH /tickets/{id}` (so the timeline records the change).

The form is CSRF-safe (`csrf.py`): a POST needs the write scope (a read-only token gets a 403 page), a
same-site request and the session's token in the hidden field.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from fastapi import APIRouter, Request, Response

from inboxcrm.core.activity import ActivityItem, TicketHistory, ticket_activity
from inboxcrm.core.model import TicketStatus
from inboxcrm.core.views import TicketView
from inboxcrm.services.access import Caller
from inboxcrm.services.manage import Manage, NotFound, Refused, TicketChange
from inboxcrm.services.reports import ReadService
from inboxcrm.web import csrf
from inboxcrm.web.auth import Require, Scope, actor
from inboxcrm.web.mail_html import FRAME_SANDBOX, frame_document
from inboxcrm.web.render import page, problem, redirect
from inboxcrm.web.sign_in import SignedInPage, secure_cookie, small_form


@dataclass(frozen=True, slots=True)
class SlaClock:
    """One of a ticket's SLA clocks, for the ticket header: due, met (`done`) or missed (`breached`)."""

    name: str
    due: datetime | None
    done: datetime | None
    breached: datetime | None


def sla_state(ticket: TicketView) -> tuple[str, list[SlaClock]]:
    """ "breached" or "on track", and the ticket's two clocks."""
    state = "breached" if ticket.first_response_breached_at or ticket.resolution_breached_at else "on track"
    return state, [
        SlaClock(
            "First response", ticket.first_response_due, ticket.first_response_at, ticket.first_response_breached_at
        ),
        SlaClock("Resolution", ticket.resolution_due, ticket.solved_at, ticket.resolution_breached_at),
    ]


@dataclass(frozen=True, slots=True)
class ChangeForm:
    """What the form offers: every status, the agents (with "unassigned" while nobody is) and priorities."""

    token: str
    statuses: tuple[str, ...]
    agents: tuple[str, ...]
    priorities: tuple[str, ...]


def _change(ticket: TicketView, form: dict[str, str]) -> TicketChange:
    """The fields the person changed (an unchanged field is left out: the timeline records what changed)."""

    def changed(name: str, now: str | None) -> str | None:
        value = form.get(name, "").strip()
        return value if value and value != (now or "") else None

    return TicketChange(
        status=changed("status", ticket.status),
        assignee=changed("assignee", ticket.assignee),
        priority=changed("priority", ticket.priority),
    )


def ticket_page_routes(
    reads: ReadService,
    require: Require,
    message_html: Callable[[int], str | None],
    history: TicketHistory | None,
    manage: Manage | None,
    csrf_key: bytes,
) -> APIRouter:
    """`GET` and (with `manage`) `POST /tickets/{id}/page`. Without `history` the page shows the messages as
    stored and no events."""
    reader = require(Scope.READ)
    router = APIRouter(route_class=SignedInPage, dependencies=[reader])

    def find(ticket_id: int) -> TicketView | None:
        found = reads.source.tickets(None, ticket_id - 1, 1)  # ReadService has no ticket-by-id: the first after
        return found[0] if found and found[0].id == ticket_id else None

    @router.get("/tickets/{ticket_id:int}/page")
    def ticket_page(request: Request, ticket_id: int, caller: Caller = reader) -> Response:
        ticket = find(ticket_id)
        if ticket is None:
            return problem(request, 404, "Not found", f"There is no ticket {ticket_id}.")
        thread = reads.thread(ticket.thread_id)
        contact = reads.contact(ticket.contact_id) if ticket.contact_id is not None else None
        messages = thread.messages if thread else ()
        frames: dict[int, str] = {}
        for message in messages:
            html = message_html(message.id)
            if html and html.strip():
                frames[message.id] = frame_document(html)
        activity: list[ActivityItem] = ticket_activity(
            messages,
            history.ticket_events(ticket.id) if history else [],
            history.relayed([m.id for m in messages if m.role == "agent_reply"]) if history else {},
        )
        form = None
        fresh = None  # a session value made for this page's form, kept by the response
        if manage is not None and caller.may(Scope.WRITE):
            agents, priorities = manage.ticket_choices()
            fresh = None if csrf.has_session(request) else csrf.new_session(request)
            statuses = tuple(s.value for s in TicketStatus)
            form = ChangeForm(csrf.form_token(csrf_key, request), statuses, agents, priorities)
        state, clocks = sla_state(ticket)
        response = page(
            request,
            "ticket.html",
            title=f"#{ticket.id} {ticket.subject}",
            ticket=ticket,
            contact=contact,
            sla_state=state,
            clocks=clocks,
            activity=activity,
            frames=frames,
            sandbox=FRAME_SANDBOX,
            form=form,
            saved=request.query_params.get("saved") == "1",
        )
        if fresh is not None:
            csrf.keep_session(response, fresh, secure_cookie(request))
        return response

    if manage is None:
        return router

    @router.post("/tickets/{ticket_id:int}/page", dependencies=[require(Scope.WRITE)])
    async def change_ticket(request: Request, ticket_id: int) -> Response:
        if csrf.cross_site(request):
            return problem(request, 403, "Not allowed", "Change tickets from this site's own pages.")
        form = await small_form(request)
        if form is None:
            return problem(request, 400, "Bad request", "Send the ticket's form.")
        if not csrf.token_ok(csrf_key, request, form.get(csrf.FIELD)):
            detail = "This form is out of date (you signed in again, or the server restarted): reload the page."
            return problem(request, 403, "Form expired", detail)
        ticket = find(ticket_id)
        if ticket is None:
            return problem(request, 404, "Not found", f"There is no ticket {ticket_id}.")
        change = _change(ticket, form)
        if change != TicketChange():
            try:
                manage.update_ticket(ticket_id, actor(request), change)
            except NotFound:
                return problem(request, 404, "Not found", f"There is no ticket {ticket_id}.")
            except Refused as exc:
                return problem(request, 422, "Not changed", f"{exc}.")
        return redirect(f"/tickets/{ticket_id}/page?saved=1")

    return router
