"""DKIM for tests: a signing key per domain and the DNS that publishes their public keys, served from
memory (dkimpy's `dnsfunc`): the signatures are real, only the DNS lookup is played."""

from __future__ import annotations

import base64
from functools import cache

import dkim
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

SELECTOR = "s1"


@cache
def _key(domain: str) -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def sign(raw: bytes, domain: str) -> bytes:
    """`raw` with a DKIM-Signature of `domain` on top (From, To, Cc, Subject, Date, Message-ID signed)."""
    private = _key(domain).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
    )
    headers = [b"from", b"to", b"cc", b"subject", b"date", b"message-id", b"in-reply-to", b"references"]
    signature = dkim.sign(raw, SELECTOR.encode(), domain.encode(), private, include_headers=headers)
    return bytes(signature) + raw


class KeysInDns:
    """The TXT records of the domains whose keys are `published` (another domain's lookup finds nothing)."""

    def __init__(self, *published: str) -> None:
        self.published = set(published)
        self.lookups: list[str] = []

    def __call__(self, name: bytes, timeout: int = 5) -> bytes | None:
        text = name.decode().rstrip(".")
        self.lookups.append(text)
        for domain in self.published:
            if text == f"{SELECTOR}._domainkey.{domain}":
                public = (
                    _key(domain)
                    .public_key()
                    .public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
                )
                return b"v=DKIM1; k=rsa; p=" + base64.b64encode(public)
        return None
