"""Webhooks: POST a JSON payload to a URL, signed with HMAC-SHA256 when a secret is configured.

The body is compact JSON with sorted keys; ``X-Tessera-Signature: sha256=<hex>`` is the HMAC of exactly those
bytes under the secret read from the named environment variable (the secret itself is never logged or
stored). Redirects are not followed: a webhook that moved is reported, not silently turned into a GET. A
receiver that cannot be reached or answers other than 2xx raises ``TransientError`` naming the URL."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import urllib.error
import urllib.request
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from tessera.errors import TesseraError, TransientError

__all__ = ["SIGNATURE_HEADER", "send_webhook", "shown", "sign"]

SIGNATURE_HEADER = "X-Tessera-Signature"


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_OPENER = urllib.request.build_opener(_NoRedirect)


def shown(url: str) -> str:
    """``url`` as messages, logs and the outbox show it: scheme and host only. A chat webhook's path is its
    secret (``https://hooks.slack.com/services/…``), which mesh.yaml keeps in an environment variable."""
    parts = urlsplit(url)
    host = parts.hostname or "?"
    port = f":{parts.port}" if _port(parts) else ""
    return f"{parts.scheme}://{host}{port}/…" if parts.scheme else "(not a URL)"


def _port(parts: Any) -> int | None:
    try:
        return int(parts.port) if parts.port else None
    except ValueError:
        return None


def sign(body: bytes, secret: str) -> str:
    """The signature header value for ``body``: ``sha256=`` and the hex HMAC-SHA256 under ``secret``."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def send_webhook(
    url: str, payload: Mapping[str, Any], *, timeout: float = 5.0, secret_env: str | None = None
) -> int:
    """POST ``payload`` as JSON to ``url`` and return the HTTP status."""
    if urlsplit(url).scheme not in ("http", "https"):
        raise TesseraError(f"webhook URL {shown(url)} must start with http:// or https://")
    body = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str).encode()
    headers = {"Content-Type": "application/json", "User-Agent": "tessera-webhook"}
    if secret_env is not None:
        secret = os.environ.get(secret_env)
        if not secret:
            raise TesseraError(
                f"webhook {shown(url)}: the secret variable {secret_env} is not set; set it or remove secret_env"
            )
        headers[SIGNATURE_HEADER] = sign(body, secret)
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    url = shown(url)  # from here on, only for messages
    try:
        with _OPENER.open(request, timeout=timeout) as response:
            status = int(response.status)
    except urllib.error.HTTPError as exc:
        exc.close()
        raise TransientError(f"webhook {url} answered HTTP {exc.code} {exc.reason}") from exc
    except urllib.error.URLError as exc:
        raise TransientError(f"webhook {url} is unreachable: {exc.reason}") from exc
    except (TimeoutError, OSError) as exc:
        raise TransientError(f"webhook {url} is unreachable: {exc}") from exc
    if not 200 <= status < 300:
        raise TransientError(f"webhook {url} answered HTTP {status}; expected 2xx")
    return status
