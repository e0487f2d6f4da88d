"""Business events: an order, invoice, payment, refund, subscription change or any named event of a contact,
with an amount, a currency and a time, as the shop or the accounting system reports it.

An event with an external id (the order number) is recorded once however often it is sent. Revenue adds up the
amounts of the kinds the config names as revenue (`[events] revenue`, default order) less refunds (`refunds`),
per currency (amounts in different currencies are never added together). Pure.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

KNOWN_KINDS = ("order", "invoice", "payment", "refund", "subscription")
KIND = re.compile(r"^[a-z][a-z0-9_.-]{0,39}$")
CURRENCY = re.compile(r"^[A-Z]{3}$")
MAX_PROPERTIES = 8000  # characters of JSON


class EventProblem(ValueError):
    """An event we cannot record: the message says which part is wrong."""


@dataclass(frozen=True, slots=True)
class BusinessEvent:
    kind: str
    at: datetime
    amount: Decimal | None = None
    currency: str | None = None
    external_id: str | None = None
    properties: Mapping[str, Any] = field(default_factory=dict)

    def summary(self) -> str:
        """One line for the timeline: `Order A-1001: 49.00 EUR (plan pro)`."""
        what = self.kind.replace("_", " ").capitalize()
        if self.external_id:
            what += f" {self.external_id}"
        if self.amount is not None:
            what += f": {self.amount:,.2f} {self.currency}"
        extra = ", ".join(f"{k} {v}" for k, v in sorted(self.properties.items()) if isinstance(v, str | int | float))
        return (what + (f" ({extra})" if extra else ""))[:500]


def business_event(
    kind: str,
    at: datetime,
    amount: object = None,
    currency: str | None = None,
    external_id: str | None = None,
    properties: Mapping[str, Any] | None = None,
    size_of: Any = None,
) -> BusinessEvent:
    """A checked event; raises `EventProblem` saying what is wrong. `size_of(properties)` measures the
    properties (their JSON length); without it they are not measured."""
    name = kind.strip().lower()
    if not KIND.match(name):
        raise EventProblem(f"kind: {kind!r} is not a name (letters, digits, _ . -; e.g. {', '.join(KNOWN_KINDS)})")
    value: Decimal | None = None
    if amount is not None and amount != "":
        if isinstance(amount, bool):
            raise EventProblem(f"amount: expected a number, got {amount!r}")
        try:
            value = Decimal(str(amount).strip())
        except InvalidOperation:
            raise EventProblem(f"amount: expected a number such as 49.90, got {amount!r}") from None
        if not value.is_finite() or abs(value) >= Decimal(10) ** 15:
            raise EventProblem(f"amount: out of range: {amount!r}")
        value = value.quantize(Decimal("0.0001"))
    code = currency.strip().upper() if currency else None
    if code is not None and not CURRENCY.match(code):
        raise EventProblem(f"currency: expected a three-letter code such as EUR or USD, got {currency!r}")
    if value is not None and code is None:
        raise EventProblem("currency: an amount needs its currency (EUR, USD …)")
    reference = external_id.strip() if external_id else None
    if reference is not None and not 0 < len(reference) <= 200:
        raise EventProblem("external_id: at most 200 characters")
    when = at if at.tzinfo is not None else at.replace(tzinfo=UTC)
    extra = dict(properties or {})
    if size_of is not None and size_of(extra) > MAX_PROPERTIES:
        raise EventProblem(f"properties: at most {MAX_PROPERTIES} characters of JSON")
    return BusinessEvent(name, when, value, code, reference or None, extra)


@dataclass(frozen=True, slots=True)
class Revenue:
    """Which kinds count: their amounts add up, refunds' amounts are taken off (whatever their sign)."""

    kinds: tuple[str, ...] = ("order",)
    refunds: tuple[str, ...] = ("refund",)

    def signed(self, kind: str, amount: Decimal) -> Decimal | None:
        """What an event adds to revenue (None: nothing, it is not a revenue kind)."""
        if kind in self.refunds:
            return -abs(amount)
        if kind in self.kinds:
            return amount
        return None
