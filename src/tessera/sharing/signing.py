"""Short-lived signed file URLs: ``<payload>.<signature>``, both URL-safe base64, the signature an HMAC-SHA256
of the payload with the server's sharing secret. The payload names the file, the recipient it was issued to,
the shared table and view it was issued for, and when it expires; nothing in it is secret, and nothing in it
can be changed without the secret. A good signature is not enough to be served: the file endpoint checks the
grant again on every request (``tessera.platform.sharing.sharing_files``), so a URL signed with a leaked secret still
reaches only what its recipient may read now.

The secret comes from ``$TESSERA_SHARING_SECRET`` or, by default, ``.tessera/sharing.key`` in the mesh
(32 random bytes, created on first use, readable by its owner only); every worker of one server shares it."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

from tessera.sharing.model import SharingError

__all__ = ["ENV_SECRET", "URL_SECONDS", "FileGrant", "load_secret", "sign", "verify"]

ENV_SECRET = "TESSERA_SHARING_SECRET"
#: How long a file URL stays valid.
URL_SECONDS = 15 * 60


@dataclass(frozen=True, slots=True)
class FileGrant:
    """What a signed URL lets its holder download: ``path`` until ``expires`` (epoch seconds), as ``recipient``
    reading table ``table`` (``schema.table``) of ``share`` at ``major``/``version``, through ``view`` (the
    masked view's fingerprint; empty for the table's own files)."""

    path: str
    recipient: str
    expires: int
    share: str
    table: str
    major: int
    version: int
    view: str = ""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def load_secret(root: Path) -> bytes:
    """The server's signing secret: the environment's, else the mesh's key file (made once, atomically)."""
    env = os.environ.get(ENV_SECRET)
    if env:
        return env.encode()
    key = root / ".tessera" / "sharing.key"
    try:
        return key.read_bytes()
    except FileNotFoundError:
        pass
    key.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        fd = os.open(key, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another worker made it first
        return key.read_bytes()
    with os.fdopen(fd, "wb") as out:
        out.write(secrets.token_bytes(32))
    return key.read_bytes()


def _mac(secret: bytes, payload: str) -> str:
    return _b64(hmac.new(secret, payload.encode(), hashlib.sha256).digest())


def sign(secret: bytes, grant: FileGrant) -> str:
    body = json.dumps(
        {
            "p": grant.path,
            "r": grant.recipient,
            "e": grant.expires,
            "s": grant.share,
            "t": grant.table,
            "m": grant.major,
            "v": grant.version,
            "w": grant.view,
        },
        separators=(",", ":"),
    )
    payload = _b64(body.encode())
    return f"{payload}.{_mac(secret, payload)}"


def verify(secret: bytes, token: str, now: float | None = None) -> FileGrant:
    """The grant a token carries; 403 when its signature does not match or it has expired."""
    payload, _, signature = token.partition(".")
    if not payload or not signature or not hmac.compare_digest(_mac(secret, payload), signature):
        raise SharingError("PERMISSION_DENIED", "the file URL's signature is not valid")
    try:
        body = json.loads(_unb64(payload))
        grant = FileGrant(
            str(body["p"]),
            str(body["r"]),
            int(body["e"]),
            str(body["s"]),
            str(body["t"]),
            int(body["m"]),
            int(body["v"]),
            str(body["w"]),
        )
    except (ValueError, KeyError, TypeError, AttributeError):
        raise SharingError("PERMISSION_DENIED", "the file URL is not valid") from None
    if grant.expires <= (time.time() if now is None else now):
        raise SharingError(
            "PERMISSION_DENIED", "the file URL has expired: query the table again for fresh URLs"
        )
    return grant
