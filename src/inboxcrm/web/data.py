"""Customer data over the API (admin scope): export everything about a contact as a zip, or erase the contact.
Both are recorded in the audit log under the caller's token name."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import APIRouter, HTTPException, Request, Response
from pydantic import BaseModel

from inboxcrm.services.contacts import ContactNotFound
from inboxcrm.services.privacy import ErasureNeedsSecret, Privacy
from inboxcrm.web.auth import Require, Scope


class ErasureOut(BaseModel):
    contact_id: int
    # rows deleted per kind (messages, raw_messages, threads, tickets, timeline_events, …) and `erased_keys`,
    # the salted hashes put on the suppression list
    deleted: dict[str, int]


def _api(_request: Request) -> str:
    return "api"


def data_routes(privacy: Privacy, require: Require, actor: Callable[[Request], str] = _api) -> APIRouter:
    """`GET /contacts/{id}/export` and `DELETE /contacts/{id}`, both needing an admin token. `actor(request)`
    names the caller (the API token's name) for the audit log; "api" when not given."""
    router = APIRouter(dependencies=[require(Scope.ADMIN)], tags=["customer data"])

    @router.get(
        "/contacts/{contact_id}/export",
        response_class=Response,
        responses={200: {"content": {"application/zip": {}}, "description": "contact.json and messages/*.eml"}},
    )
    def export_contact(contact_id: int, request: Request) -> Response:
        """Everything stored about the contact: `contact.json` (the contact, aliases, company, tags, score
        history, timeline, tickets, deals, enrolments, suppressions, outbox metadata, messages) and the exact raw
        bytes of each message as `messages/<id>.eml`, in a zip."""
        try:
            export = privacy.export(contact_id, actor(request))
        except ContactNotFound as exc:
            raise HTTPException(status_code=404, detail=str(exc)) from None
        return Response(
            export.zip_bytes(),
            media_type="application/zip",
            headers={
                "Content-Disposition": f'attachment; filename="contact-{contact_id}.zip"',
                # personal data: no copy in a shared or browser cache
                "Cache-Control": "no-store",
            },
        )

    @router.delete("/contacts/{contact_id}", response_model=ErasureOut)
    def erase_contact(contact_id: int, request: Request) -> ErasureOut:
        """Erase the contact: its messages and their raw bytes, attachments' metadata, timeline, tickets, tags,
        enrolments and mail to it. Its addresses stay on the suppression list only as salted hashes, so no
        campaign mails them again. Messages of other contacts that merely mention it stay."""
        try:
            counts = privacy.erase(contact_id, actor(request))
        except ContactNotFound as exc:
            raise HTTPException(status_code=404, detail=str(exc)) from None
        except ErasureNeedsSecret as exc:
            raise HTTPException(status_code=503, detail=str(exc)) from None
        return ErasureOut(contact_id=contact_id, deleted=counts)

    return router
