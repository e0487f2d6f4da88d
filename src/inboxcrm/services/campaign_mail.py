"""What a campaign mail is made of besides its template: the context the template is rendered with, the
unsubscribe footer, the List-Unsubscribe headers, and the sample context `inboxcrm check` tries templates with."""

from __future__ import annotations

from typing import Any

from inboxcrm.core.campaigns import Campaign
from inboxcrm.core.ports import Recipient, Rendered
from inboxcrm.core.unsubscribe import list_unsubscribe_headers


class FieldValues(dict[str, str]):
    """A contact's custom fields for templates: a field the contact has no value for is empty (None), not an
    error, so `{{ contact.fields.plan or "free" }}` works for every contact."""

    def __missing__(self, key: str) -> None:
        return None


def template_context(campaign: Campaign, step: int, recipient: Recipient, url: str) -> dict[str, Any]:
    """What the template of `step` sees for `recipient` (`url`: the recipient's unsubscribe link)."""
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
        "campaign": {
            "name": campaign.name,
            "description": campaign.description,
            "step": step,
            "steps": len(campaign.steps),
            "postal_address": campaign.postal_address,
        },
        "unsubscribe_url": url,
    }


def with_footer(rendered: Rendered, campaign: Campaign, url: str) -> tuple[str, str | None]:
    """The rendered text and HTML with the unsubscribe link and the campaign's postal address at the end."""
    text = rendered.text.rstrip("\n")
    text += f"\n\n-- \nUnsubscribe: {url}\n{campaign.postal_address}\n"
    html = rendered.html
    if html is not None:
        from html import escape

        footer = (
            f'<p style="font-size:12px;color:#666">Don\'t want these mails? '
            f'<a href="{escape(url)}">Unsubscribe</a>.<br>{escape(campaign.postal_address)}</p>'
        )
        html = html.replace("</body>", footer + "</body>") if "</body>" in html else html + footer
    return text, html


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
