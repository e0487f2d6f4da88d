"""Verifying the DKIM signatures of a raw message with dkimpy: which domains signed it, and whether each
signature verifies against the public key the signer publishes in DNS.

The DNS lookup is a parameter (`dns`): dkimpy's own resolver (dnspython) by default, a function serving
keys from memory in tests. Lookups are cached for a few minutes: one agent's replies share one key."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from inboxcrm.core.agent_mail import DkimResult

log = logging.getLogger(__name__)

# name (b"selector._domainkey.example.com.") and a timeout in seconds → the TXT record, or None
DnsLookup = Callable[..., bytes | str | None]

MAX_SIGNATURES = 5  # a message may carry many; each costs a DNS lookup and a hash of the body


# dkimpy (and dnspython under it) are imported by the first message checked: a daemon that never checks
# agents' signatures does not load them (~9 MB).


def _dkimpy_dns(name: bytes, timeout: int = 5) -> bytes | str | None:
    import dkim

    result: bytes | str | None = dkim.dnsplug.get_txt(name, timeout=timeout)
    return result


class DkimVerifier:
    """`verify(raw)` → one `DkimResult` per DKIM signature (the first few), in the message's order."""

    def __init__(self, dns: DnsLookup | None = None, cache_for: float = 300.0, timeout: int = 5) -> None:
        self._dns: DnsLookup = dns or _dkimpy_dns
        self._cache_for = cache_for
        self._timeout = timeout
        self._cache: dict[bytes, tuple[float, bytes | str | None]] = {}
        self._lock = threading.Lock()

    def verify(self, raw: bytes) -> tuple[DkimResult, ...]:
        """The signatures of `raw` and whether each verifies. Never raises: a signature that cannot be
        checked (no key in DNS, a DNS failure, a malformed header) does not verify."""
        import dkim

        try:
            checker = dkim.DKIM(raw, timeout=self._timeout)
            signatures = [i for i, (name, _) in enumerate(checker.headers) if name.lower() == b"dkim-signature"]
        except Exception as exc:  # dkimpy raises on mail it cannot split into headers and body
            log.info("DKIM: message not checked: %s", exc)
            return ()
        results = []
        for position, index in enumerate(signatures[:MAX_SIGNATURES]):
            domain = _signer(checker.headers[index][1])
            try:
                passed = bool(checker.verify(idx=position, dnsfunc=self._lookup))
            except Exception as exc:  # a bad key record or a DNS failure: not verified, and said so
                log.info("DKIM: signature of %s not verified: %s", domain or "?", exc)
                passed = False
            results.append(DkimResult(domain, passed))
        return tuple(results)

    def _lookup(self, name: bytes, timeout: int = 5) -> bytes | str | None:
        now = time.monotonic()
        with self._lock:
            cached = self._cache.get(name)
            if cached is not None and now - cached[0] < self._cache_for:
                return cached[1]
        value = self._dns(name, timeout=timeout)
        with self._lock:
            if len(self._cache) > 1000:
                self._cache.clear()
            self._cache[name] = (now, value)
        return value


def _signer(value: bytes) -> str:
    """The `d=` tag of a DKIM-Signature header value ("" when it has none or cannot be read)."""
    from dkim.util import InvalidTagValueList, parse_tag_value

    try:
        tags = parse_tag_value(b"".join(value.split()))
    except InvalidTagValueList:
        return ""
    signer: bytes = tags.get(b"d", b"")
    return signer.decode("ascii", "replace").lower()
