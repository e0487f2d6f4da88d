"""Email addresses as identities: normalising, and which domain is a company."""

from __future__ import annotations

# Free-mail providers: an address there says nothing about the sender's company.
FREE_MAIL_DOMAINS = frozenset(
    {
        "gmail.com",
        "googlemail.com",
        "yahoo.com",
        "yahoo.co.uk",
        "yahoo.fr",
        "yahoo.de",
        "ymail.com",
        "hotmail.com",
        "hotmail.co.uk",
        "hotmail.fr",
        "hotmail.de",
        "outlook.com",
        "live.com",
        "msn.com",
        "aol.com",
        "icloud.com",
        "me.com",
        "mac.com",
        "gmx.de",
        "gmx.net",
        "gmx.com",
        "web.de",
        "mail.com",
        "protonmail.com",
        "proton.me",
        "pm.me",
        "zoho.com",
        "yandex.ru",
        "yandex.com",
        "mail.ru",
        "qq.com",
        "163.com",
        "126.com",
        "free.fr",
        "orange.fr",
        "laposte.net",
        "libero.it",
        "t-online.de",
        "fastmail.com",
        "hey.com",
        "tutanota.com",
        "seznam.cz",
        "wp.pl",
        "naver.com",
    }
)


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
