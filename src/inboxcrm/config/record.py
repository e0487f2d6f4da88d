"""The customer record's sections of the config file: custom fields (`[[fields]]`), webhooks out
(`[[webhooks]]`, `[webhook_delivery]`), search (`[search]`) and business events (`[events]`)."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from inboxcrm.config.sections import Section, parse_duration


class FieldSettings(Section):
    """One custom field of contacts (`[[fields]]`)."""

    name: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,49}$")]
    type: Literal["text", "number", "date", "choice", "bool"] = "text"
    choices: tuple[str, ...] = ()
    label: str = ""

    @model_validator(mode="after")
    def _choices(self) -> FieldSettings:
        if self.type == "choice" and not self.choices:
            raise ValueError('a choice field needs `choices`, e.g. choices = ["free", "pro"]')
        if self.type != "choice" and self.choices:
            raise ValueError('`choices` belong to type = "choice"')
        return self


class WebhookSettings(Section):
    """One endpoint that is told what happens (`[[webhooks]]`)."""

    name: Annotated[str, Field(pattern=r"^[A-Za-z0-9_.-]+$")]
    url: str
    events: tuple[str, ...] = Field(min_length=1)
    # the environment variable holding the signing secret; `secret` inline for demos only
    secret_env: str | None = None
    secret: str | None = None
    timeout: float = 10.0

    @field_validator("timeout", mode="before")
    @classmethod
    def _duration(cls, value: object) -> float:
        return parse_duration(value)

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        if not re.match(r"^https?://[^/\s]+", value):
            raise ValueError(f"expected an http(s) URL, got {value!r}")
        return value

    @field_validator("events")
    @classmethod
    def _events(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        from inboxcrm.core.webhooks import ANY, EVENTS

        unknown = [e for e in value if e != ANY and e not in EVENTS]
        if unknown:
            raise ValueError(f'unknown event(s) {", ".join(unknown)} (events: {", ".join(EVENTS)}, or "*")')
        return value

    @model_validator(mode="after")
    def _one_secret(self) -> WebhookSettings:
        if (self.secret is None) == (self.secret_env is None):
            raise ValueError("give exactly one of `secret_env` (an environment variable) or `secret` (demo only)")
        return self


class WebhooksSettings(Section):  # [webhook_delivery]
    """Retry timing for every webhook: after `retry_first`, doubling up to `retry_max`, until `give_up_after`."""

    interval: Annotated[float, Field(gt=0)] = 5.0
    retry_first: Annotated[float, Field(gt=0)] = 30.0
    retry_max: Annotated[float, Field(gt=0)] = 3600.0
    give_up_after: Annotated[float, Field(gt=0)] = 3 * 86400.0

    @field_validator("interval", "retry_first", "retry_max", "give_up_after", mode="before")
    @classmethod
    def _duration(cls, value: object) -> float:
        return parse_duration(value)


class SearchSettings(Section):
    # The language words are stemmed in ("none": folded only). A change takes effect with `inboxcrm search --rebuild`.
    language: str = "english"

    @field_validator("language")
    @classmethod
    def _language(cls, value: str) -> str:
        from inboxcrm.core.search_text import LANGUAGES

        if value not in LANGUAGES:
            raise ValueError(f"unknown language {value!r} (one of: {', '.join(LANGUAGES)})")
        return value


class EventsSettings(Section):
    # Business event kinds whose amounts are revenue, and those (refunds) whose amounts are taken off it.
    revenue: tuple[str, ...] = ("order",)
    refunds: tuple[str, ...] = ("refund",)
