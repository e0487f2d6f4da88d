"""Whether mail that says it is from an agent really is, before it changes a ticket or reaches a customer.

The From header is written by whoever sends the mail; anyone can put an agent's address there. What the
desk trusts instead is configured (`[security] agent_mail`):

- ``"relay-only"`` (the default): only mail to a signed per-ticket relay address (an HMAC token an agent
  could only have received by mail) is an agent's. Agents' replies seen with the shared address in Cc or
  Bcc are recorded as unverified and never obeyed.
- ``"dkim"``: a DKIM signature that verifies (checked by inboxcrm, adapters/dkim.py) and whose ``d=`` is
  the agent's own domain (or a parent/subdomain of it: relaxed alignment).
- ``"authentication-results"``: the ``Authentication-Results`` header (RFC 8601) the team's own receiving
  server wrote, recognised by its authserv-id: DMARC pass for the agent's domain, or DKIM/SPF pass aligned
  with it.
- ``"from-header"``: the From header is believed. Anyone can act as an agent; for the demo and for a mailbox
  nobody outside the team can write to.

In the ``"dkim"`` and ``"authentication-results"`` modes relay mail must authenticate too: the relay
address says which ticket, the signature says who. Pure: the headers and the DKIM results are passed in.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

AgentMailMode = Literal["relay-only", "dkim", "authentication-results", "from-header"]
MODES: tuple[AgentMailMode, ...] = ("relay-only", "dkim", "authentication-results", "from-header")


@dataclass(frozen=True, slots=True)
class DkimResult:
    """One DKIM signature of a message: the domain that signed it (``d=``) and whether it verified."""

    domain: str
    passed: bool


@dataclass(frozen=True, slots=True)
class AgentMailPolicy:
    """What makes mail from an agent's address trusted (see the module docstring)."""

    mode: AgentMailMode = "relay-only"
    # the authserv-ids of the team's own receiving servers (``mx.google.com``, ``mail.example.com``)
    trusted_authserv_ids: frozenset[str] = field(default_factory=frozenset)

    @property
    def checks_dkim(self) -> bool:
        """Whether the DKIM signatures of agent mail must be verified (a DNS lookup each)."""
        return self.mode == "dkim"


@dataclass(frozen=True, slots=True)
class Verdict:
    """Whether agent mail is trusted; `how` says by what, `reason` why not."""

    trusted: bool
    how: str = ""
    reason: str = ""


def verdict(
    policy: AgentMailPolicy,
    sender: str,
    headers: Sequence[tuple[str, str]],
    dkim: Sequence[DkimResult] | None,
    via_relay: bool,
) -> Verdict:
    """Whether mail from `sender` (an agent's or a shared address, from the From header) is really theirs.

    `headers` are the message's headers in order, top first; `dkim` the results of verifying its DKIM
    signatures (None: not checked); `via_relay` whether it was sent to a valid signed relay address."""
    domain = sender.rpartition("@")[2].lower()
    if policy.mode == "from-header":
        return Verdict(True, 'the From header (agent_mail = "from-header": not authenticated)')
    if policy.mode == "relay-only":
        if via_relay:
            return Verdict(True, "the signed relay address")
        return Verdict(
            False,
            reason='only replies to a relay address are trusted (agent_mail = "relay-only"); '
            "a reply with the shared address in Cc is recorded, not obeyed",
        )
    if policy.mode == "dkim":
        if dkim is None:
            return Verdict(False, reason="its DKIM signature was not checked")
        for result in dkim:
            if result.passed and aligned(result.domain, domain):
                return Verdict(True, f"a DKIM signature of {result.domain}")
        signers = sorted({r.domain for r in dkim if r.passed})
        if signers:
            return Verdict(False, reason=f"it is signed by {', '.join(signers)}, not by {domain}")
        if dkim:
            return Verdict(False, reason="its DKIM signature does not verify")
        return Verdict(False, reason=f"it carries no DKIM signature of {domain}")
    return _by_authentication_results(policy, domain, headers)


def aligned(signer: str, domain: str) -> bool:
    """Relaxed alignment without a public-suffix list: the same domain, or one a subdomain of the other
    (``d=example.com`` for ``ana@mail.example.com``). A signer needs at least two labels: nobody signs
    for a whole top-level domain."""
    signer, domain = signer.lower().strip().rstrip("."), domain.lower().strip().rstrip(".")
    if "." not in signer or "." not in domain:
        return False
    return signer == domain or domain.endswith("." + signer) or signer.endswith("." + domain)


# -- Authentication-Results (RFC 8601) ---------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class AuthResult:
    """One `method=result` of an Authentication-Results header with its properties (`header.from`, …)."""

    method: str
    result: str
    properties: tuple[tuple[str, str], ...] = ()

    def get(self, name: str) -> str:
        return next((v for k, v in self.properties if k == name), "")


_COMMENT = re.compile(r"\([^()]*\)")
_RESULT = re.compile(r"^\s*([A-Za-z0-9_-]+)(?:\s*/\s*[0-9]+)?\s*=\s*([A-Za-z0-9_-]+)")
_PROPERTY = re.compile(r'([A-Za-z0-9_-]+\.[A-Za-z0-9_.-]+)\s*=\s*("[^"]*"|[^\s;]+)')


def parse_authentication_results(value: str) -> tuple[str, tuple[AuthResult, ...]]:
    """The authserv-id and the results of one Authentication-Results header value (comments removed).
    A header without an authserv-id (Microsoft 365 writes some so) has "" as its id."""
    text = value[:10000]
    for _ in range(5):  # comments may nest; a few rounds remove any real header's
        text = _COMMENT.sub(" ", text)
    parts = [p.strip() for p in text.split(";")]
    words = parts[0].split()
    if words and "=" in words[0]:
        authserv_id, rest = "", parts  # no authserv-id: the first part is already a result
    else:
        authserv_id, rest = (words[0].lower() if words else ""), parts[1:]
    results = []
    for part in rest:
        found = _RESULT.match(part)
        if found is None:
            continue
        properties = tuple((k.lower(), v.strip('"').lower()) for k, v in _PROPERTY.findall(part[found.end() :]))
        results.append(AuthResult(found.group(1).lower(), found.group(2).lower(), properties))
    return authserv_id, tuple(results)


def trusted_results(headers: Sequence[tuple[str, str]], trusted: frozenset[str]) -> tuple[AuthResult, ...]:
    """The results the team's own server wrote: the Authentication-Results headers with a trusted
    authserv-id from the topmost one down to the next `Received` header. Servers prepend their headers, so
    one an outsider wrote into the message sits below the receiving server's own `Received`; RFC 8601 §5
    also requires the server to remove incoming headers that carry its id."""
    found: list[AuthResult] = []
    started = False
    for name, value in headers:
        key = name.lower()
        if key == "received" and started:
            break
        if key != "authentication-results":
            continue
        authserv_id, results = parse_authentication_results(value)
        if authserv_id in trusted:
            started = True
            found.extend(results)
    return tuple(found)


def _by_authentication_results(policy: AgentMailPolicy, domain: str, headers: Sequence[tuple[str, str]]) -> Verdict:
    trusted = frozenset(i.lower() for i in policy.trusted_authserv_ids)
    results = trusted_results(headers, trusted)
    if not results:
        return Verdict(False, reason="it has no Authentication-Results from a trusted server")
    for r in results:
        if r.method == "dmarc" and r.result == "fail":
            return Verdict(False, reason=f"DMARC fails for {r.get('header.from') or domain}")
    for r in results:
        if r.method == "dmarc" and r.result == "pass" and r.get("header.from") == domain:
            return Verdict(True, f"DMARC pass for {domain}")
    for r in results:
        signer = r.get("header.d") or r.get("header.i").rpartition("@")[2]
        if r.method == "dkim" and r.result == "pass" and aligned(signer, domain):
            return Verdict(True, f"a DKIM signature of {signer} (Authentication-Results)")
    for r in results:
        mail_from = r.get("smtp.mailfrom").rpartition("@")[2]
        if r.method == "spf" and r.result == "pass" and aligned(mail_from, domain):
            return Verdict(True, f"SPF pass for {mail_from} (Authentication-Results)")
    seen = ", ".join(f"{r.method}={r.result}" for r in results)
    return Verdict(False, reason=f"its Authentication-Results show no pass for {domain} ({seen})")
