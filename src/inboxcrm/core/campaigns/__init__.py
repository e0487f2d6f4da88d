"""Drip campaigns as code: campaign files (`campaigns/*.toml`) → `Campaign`s; when each step is due, who enrols
and who leaves. Pure core: imports only other `inboxcrm.core` modules and the standard library."""

from inboxcrm.core.campaigns.clock import due_at, send_time
from inboxcrm.core.campaigns.compiler import compile_campaigns
from inboxcrm.core.campaigns.enrolment import exit_reason, may_enrol, triggers
from inboxcrm.core.campaigns.model import (
    ALWAYS_EXIT,
    CAMPAIGN_KEYS,
    ENROLMENT_STATUSES,
    EXIT_KEYS,
    MAX_DELAY,
    MAX_STEPS,
    STEP_KEYS,
    TRIGGER_KINDS,
    WINDOW_KEYS,
    Campaign,
    CampaignVocabulary,
    ContactNow,
    Exits,
    Step,
    Trigger,
    Window,
)

__all__ = [
    "ALWAYS_EXIT",
    "CAMPAIGN_KEYS",
    "ENROLMENT_STATUSES",
    "EXIT_KEYS",
    "MAX_DELAY",
    "MAX_STEPS",
    "STEP_KEYS",
    "TRIGGER_KINDS",
    "WINDOW_KEYS",
    "Campaign",
    "CampaignVocabulary",
    "ContactNow",
    "Exits",
    "Step",
    "Trigger",
    "Window",
    "compile_campaigns",
    "due_at",
    "exit_reason",
    "may_enrol",
    "send_time",
    "triggers",
]
