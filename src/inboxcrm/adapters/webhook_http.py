"""POSTing webhook deliveries over HTTP (httpx): one request, a timeout, and what came of it."""

from __future__ import annotations

from collections.abc import Mapping

from inboxcrm.core.record_ports import Posted


class HttpPoster:
    """Follows no redirects (a delivery goes where it was configured to go), verifies TLS certificates."""

    def post(self, url: str, payload: bytes, headers: Mapping[str, str], timeout: float) -> Posted:
        import httpx  # by the first delivery: a daemon without webhooks never loads it (~5 MB)

        try:
            response = httpx.post(url, content=payload, headers=dict(headers), timeout=timeout, follow_redirects=False)
        except httpx.TimeoutException:
            return Posted(None, f"no answer within {timeout:g} s")
        except httpx.HTTPError as exc:
            return Posted(None, f"{type(exc).__name__}: {exc}"[:500])
        return Posted(response.status_code, response.text[:200] if response.status_code >= 300 else "")
