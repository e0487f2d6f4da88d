"""A campaign step's mail for each contact (`StepMail`), and what it is made of besides its template: the
context the template is rendered with, the unsubscribe footer, the List-Unsubscribe headers, and the sample
context `inboxcrm check` tries templates with."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from html import escape
from typing import Any
from urllib.parse import quote

from inboxcrm.core.campaigns import Campaign
from inboxcrm.core.model import Address
from inboxcrm.core.outgoing import Draft, compose, letterhead
from inboxcrm.core.ports import NewMail, Recipient, Rendered, Renderer
from inboxcrm.core.unsubscribe import list_unsubscribe_headers, unsubscribe_token

PRECEDENCE = ("Precedence", "bulk")


class FieldValues(dict[str, str]):
    """A contact's custom fields for templates: a field the contact has no value for is empty (None), not an
    error, so `{{ contact.fields.plan or "free" }}` works for every contact."""

    def __missing__(self, key: str) -> None:
        return None


def campaign_context(campaign: Campaign, step: int) -> dict[str, Any]:
    """What the template of `step` sees as `campaign`: the same for every contact."""
    return {
        "name": campaign.name,
        "description": campaign.description,
        "step": step,
        "steps": len(campaign.steps),
        "postal_address": campaign.postal_address,
    }


def template_context(campaign: dict[str, Any], recipient: Recipient, url: str) -> dict[str, Any]:
    """What a step's template sees for `recipient` (`campaign`: the step's `campaign_context`, one dict for
    every contact: the sandbox is immutable, no template can change it; `url`: the recipient's unsubscribe
    link)."""
    first = recipient.name.split()[0] if recipient.name.split() else ""
    return {
        "contact": {
            "email": recipient.email,
            "name": recipient.name,
            "first_name": first,
            "stage": recipient.stage,
            "score": round(recipient.score, 1),
            "tags": sorted(recipient.tags),
            "fields": FieldValues(recipient.fields),
        },
        "company": {"name": recipient.company, "domain": recipient.company_domain} if recipient.company else None,
        "campaign": campaign,
        "unsubscribe_url": url,
    }


def with_footer(rendered: Rendered, campaign: Campaign, url: str) -> tuple[str, str | None]:
    """The rendered text and HTML with the unsubscribe link and the campaign's postal address at the end."""
    text = rendered.text.rstrip("\n")
    text += f"\n\n-- \nUnsubscribe: {url}\n{campaign.postal_address}\n"
    html = rendered.html
    if html is not None:
        footer = (
            f'<p style="font-size:12px;color:#666">Don\'t want these mails? '
            f'<a href="{escape(url)}">Unsubscribe</a>.<br>{escape(campaign.postal_address)}</p>'
        )
        html = html.replace("</body>", footer + "</body>") if "</body>" in html else html + footer
    return text, html


class StepMail:
    """The mail of one campaign step, for one contact after another. What every contact's mail shares is
    worked out once, when it is made: the step's compiled templates are looked up by name per contact (the
    folder's templates are compiled when it is loaded, never per mail), the campaign's part of the context,
    and the header lines that do not change (From, Reply-To, Date, List-Unsubscribe-Post, Precedence: an
    `outgoing.Letterhead`). Per contact: the unsubscribe token and link, the render, the footer, To,
    Subject, Message-ID, List-Unsubscribe and the bodies.

    Raises RuntimeError when campaign mail cannot be written at all (no templates, no secret)."""

    def __init__(
        self,
        campaign: Campaign,
        number: int,
        templates: Renderer | None,
        secret: bytes | None,
        public_url: str,
        date: datetime,
    ) -> None:
        if templates is None:
            raise RuntimeError("no templates folder is configured")
        if secret is None:
            raise RuntimeError("campaign mail needs [security] secret_env to sign unsubscribe links")
        self.campaign = campaign
        self.number = number
        self.date = date
        self._template = campaign.steps[number - 1].template
        self._templates = templates
        self._secret = secret
        self._links = f"{public_url}/unsubscribe/"
        self._context = campaign_context(campaign, number)
        self._reply_to = (campaign.reply_to,) if campaign.reply_to != campaign.sender.email else ()
        # what the unsubscribe headers have besides the contact's own List-Unsubscribe (one-click or not
        # depends on the public URL alone): the same for every contact, so written once
        self._shared = self._headers("sample-token")[1:]
        self._letterhead = letterhead(campaign.sender, self._reply_to, date, self._shared)

    def _headers(self, token: str) -> tuple[tuple[str, str], ...]:
        mailto = f"mailto:{self.campaign.sender.email}?subject={quote('unsubscribe ' + token)}"
        return (*unsubscribe_headers(self._links + token, mailto), PRECEDENCE)

    def draft(self, recipient: Recipient, enrolment_id: int | None) -> Draft:
        """The mail for `recipient`: rendered, with the unsubscribe footer and headers. Raises when the
        template fails (nothing half-rendered is ever sent)."""
        campaign = self.campaign
        token = unsubscribe_token(recipient.email, campaign.name, self._secret)
        url = self._links + token
        rendered = self._templates.render(self._template, template_context(self._context, recipient, url))
        text, html = with_footer(rendered, campaign, url)
        return Draft(
            key=f"campaign-{campaign.name}-{recipient.contact_id}-{self.number}-{enrolment_id or 'preview'}",
            kind="campaign",
            sender=campaign.sender,
            to=(Address(recipient.email, recipient.name),),
            subject=rendered.subject,
            text=text,
            html=html,
            reply_to=self._reply_to,
            headers=self._headers(token),
        )

    def mail(self, recipient: Recipient, enrolment_id: int | None, message_id: str) -> NewMail:
        """The outbox row for `recipient`: the bytes of `draft(recipient, enrolment_id)` with `message_id` and
        the step's date, the very message `outgoing.compose` writes, with the shared header lines written
        once for the step."""
        draft = self.draft(recipient, enrolment_id)
        own, shared = draft.headers[:1], draft.headers[1:]
        raw = None
        if self._letterhead is not None and shared == self._shared:
            raw = self._letterhead.write(replace(draft, headers=own), message_id)
        return NewMail(
            key=draft.key,
            kind="campaign",
            message_id=message_id,
            sender=self.campaign.sender.email,
            recipients=(recipient.email,),
            raw=raw if raw is not None else compose(draft, message_id, self.date),
            automatic=False,
            at=self.date,
            contact_id=recipient.contact_id,
            campaign=self.campaign.name,
            step=self.number,
            enrolment_id=enrolment_id,
        )


def unsubscribe_headers(url: str, mailto: str) -> list[tuple[str, str]]:
    """List-Unsubscribe headers for the link `url` and the `mailto` address (one-click when `url` is https)."""
    try:
        return list_unsubscribe_headers(url, mailto)
    except ValueError:
        # a plain-http public URL (a demo on loopback): RFC 8058 one-click needs https, so only RFC 2369
        return [("List-Unsubscribe", f"<{url}>, <{mailto}>")]


# What campaign templates are rendered with, as `inboxcrm check` tries them.
CAMPAIGN_SAMPLE: dict[str, Any] = {
    "contact": {
        "email": "ada@example.org",
        "name": "Ada Lovelace",
        "first_name": "Ada",
        "stage": "lead",
        "score": 42.0,
        "tags": ["trial"],
        "fields": FieldValues(),
    },
    "company": {"name": "Example Org", "domain": "example.org"},
    "campaign": {
        "name": "trial-nurture",
        "description": "A sample campaign",
        "step": 1,
        "steps": 3,
        "postal_address": "Example GmbH, Hauptstr. 1, 10115 Berlin",
    },
    "unsubscribe_url": "https://crm.example.com/unsubscribe/sample-token",
}
