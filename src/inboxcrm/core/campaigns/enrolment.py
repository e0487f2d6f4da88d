"""Who enrols in a campaign and who leaves: triggers, exits and re-enrolment, over what a contact is now."""

from __future__ import annotations

from collections.abc import Sequence

from inboxcrm.core.campaigns.model import ENROLMENT_STATUSES, Campaign, ContactNow


def exit_reason(campaign: Campaign, contact: ContactNow) -> str | None:
    """Why `contact` must leave `campaign` now, or None to stay. Unsubscribing, bouncing and complaining come
    first and always apply; then reply, ticket, tag and stage as the campaign's exits say."""
    exits = campaign.exits
    if contact.unsubscribed:
        return "unsubscribed"
    if contact.bounced:
        return "bounced"
    if contact.complained:
        return "complained"
    if exits.reply and contact.replied_since_enrolment:
        return "replied"
    if exits.ticket and contact.open_ticket:
        return "ticket opened"
    tags = sorted(exits.tags & contact.tags)
    if tags:
        return f"tag {tags[0]}"
    if contact.stage is not None and contact.stage in exits.stages:
        return f"stage {contact.stage}"
    return None


def triggers(campaign: Campaign, before: ContactNow | None, after: ContactNow, stages: Sequence[str]) -> bool:
    """Whether the change from `before` (None: a new contact) to `after` enrols in `campaign`: its tag newly
    present, its stage (or a later one in lifecycle order `stages`) newly reached, its score newly reached
    from below, its segment newly entered. Rule and manual campaigns never enrol here."""
    trigger = campaign.trigger
    value = trigger.value
    if trigger.kind == "tag":
        return value in after.tags and (before is None or value not in before.tags)
    if trigger.kind == "segment":
        return value in after.segments and (before is None or value not in before.segments)
    if trigger.kind == "score" and isinstance(value, float | int):
        return after.score >= value and (before is None or before.score < value)
    if trigger.kind == "stage" and isinstance(value, str) and value in stages:
        order = list(stages)
        needed = order.index(value)

        def reached(contact: ContactNow | None) -> bool:
            stage = None if contact is None else contact.stage
            return stage is not None and stage in order and order.index(stage) >= needed

        return reached(after) and not reached(before)
    return False


def may_enrol(campaign: Campaign, previous: Sequence[str]) -> tuple[bool, str]:
    """Whether a contact whose earlier enrolments in `campaign` ended as `previous` (statuses from
    `ENROLMENT_STATUSES`) may enrol now, and why. Raises ValueError on an unknown status."""
    unknown = sorted(set(previous) - set(ENROLMENT_STATUSES))
    if unknown:
        raise ValueError(f"unknown enrolment status {unknown[0]!r}; expected one of {', '.join(ENROLMENT_STATUSES)}")
    if "active" in previous:
        return False, f"already enrolled in {campaign.name!r}"
    if not previous:
        return True, "first enrolment"
    if not campaign.reenrol:
        ended = "finished" if "finished" in previous else "left"
        return False, f"{ended} {campaign.name!r} before, and the campaign does not allow re-enrolment"
    return True, "re-enrolment allowed"
