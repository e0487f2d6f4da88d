"""Changing things over the API (write scope): a contact's tags and stage, a ticket's status, assignee,
priority and tags, and campaign enrolment. Each change lands on the contact's timeline."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from pydantic import BaseModel, ConfigDict, Field

from inboxcrm.services.manage import Manage, NotFound, Refused, TicketChange
from inboxcrm.web.auth import Require, Scope

_TAG = r"^[\w.:-]{1,50}$"


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ContactChangeIn(_In):
    add_tags: list[str] = Field(default_factory=list, max_length=50)
    remove_tags: list[str] = Field(default_factory=list, max_length=50)
    stage: str | None = Field(default=None, max_length=40)
    name: str | None = Field(default=None, max_length=255)
    # custom fields ([[fields]] in the config): name → value; null clears the field
    fields: dict[str, Any] = Field(default_factory=dict, max_length=100)


class TicketChangeIn(_In):
    status: str | None = Field(default=None, max_length=16)
    assignee: str | None = Field(default=None, max_length=100)
    priority: str | None = Field(default=None, max_length=16)
    add_tags: list[str] = Field(default_factory=list, max_length=50)
    remove_tags: list[str] = Field(default_factory=list, max_length=50)


class EnrolIn(_In):
    contact_id: int = Field(ge=1)


class EnrolOut(BaseModel):
    enrolment_id: int


def _tags(values: list[str]) -> tuple[str, ...]:
    import re

    bad = [v for v in values if not re.match(_TAG, v)]
    if bad:
        raise HTTPException(status_code=422, detail=f"not a tag: {bad[0]!r} (letters, digits, _ . : -; at most 50)")
    return tuple(values)


def manage_routes(manage: Manage, require: Require, actor: Callable[[Request], str]) -> APIRouter:
    """`actor(request)` names who made the change (the API token's name) for the timeline."""
    router = APIRouter(dependencies=[require(Scope.WRITE)])

    def run(change: Callable[[], object]) -> object:
        try:
            return change()
        except NotFound as exc:
            raise HTTPException(status_code=404, detail=str(exc)) from None
        except Refused as exc:
            raise HTTPException(status_code=422, detail=str(exc)) from None

    @router.patch("/contacts/{contact_id}", status_code=204)
    def change_contact(contact_id: int, body: ContactChangeIn, request: Request) -> None:
        """Add or remove tags, set the lifecycle stage, the name and custom fields (checked against their types;
        a bad value and nothing changes). Each change lands on the timeline."""
        add, remove = _tags(body.add_tags), _tags(body.remove_tags)
        run(lambda: manage.update_contact(contact_id, actor(request), add, remove, body.stage, body.name, body.fields))

    @router.patch("/tickets/{ticket_id}", status_code=204)
    def change_ticket(ticket_id: int, body: TicketChangeIn, request: Request) -> None:
        """Change status (new, open, pending, solved, closed), assignee (an agent's name), priority and tags."""
        change = TicketChange(body.status, body.assignee, body.priority, _tags(body.add_tags), _tags(body.remove_tags))
        run(lambda: manage.update_ticket(ticket_id, actor(request), change))

    @router.post("/campaigns/{name}/enrolments", response_model=EnrolOut, status_code=201)
    def enrol(name: str, body: EnrolIn, request: Request) -> EnrolOut:
        """Enrol a contact in a campaign (refused for suppressed contacts and per the campaign's reenrol)."""
        found = run(lambda: manage.enrol(name, body.contact_id, actor(request)))
        assert isinstance(found, int)
        return EnrolOut(enrolment_id=found)

    @router.delete("/campaigns/{name}/enrolments/{contact_id}", status_code=204)
    def unenrol(name: str, contact_id: int, request: Request) -> None:
        """Take a contact out of a campaign: no more steps are sent."""
        run(lambda: manage.unenrol(name, contact_id, actor(request)))

    return router
