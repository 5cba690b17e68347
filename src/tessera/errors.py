"""Tessera's exceptions: one root, a subclass per area.

    TesseraError                 exit 1 unless said otherwise
    ├── SpecError                mesh files that do not load or validate (exit 2); carries every Problem
    ├── AddressError             an address that does not parse or resolve (exit 2)
    ├── NotFoundError            a product, version or file that does not exist (exit 1)
    ├── DataError                data that cannot be read or conformed to its contract
    │   ├── QueryError           SQL the engine refused (a user's query or a transform)
    │   └── InputError           data a contract names that cannot be used: an unknown server, no such
    │                            file, an unknown format, a database that does not answer (exit 2)
    ├── QualityGateError         a publish refused by the quality gate; carries the QualityRun
    ├── VersionGateError         a breaking contract change without a major bump; carries the changes
    ├── PolicyViolationError     a publish refused by the governance gate; carries every violation
    ├── ErasureError             an erasure subject that is malformed or that no contract classifies (exit 2)
    ├── RetiredError             a retired major version was read; names the successor
    ├── AccessDeniedError        a principal without a grant that allows the action (exit 3); says which would
    ├── AuthenticationError      a token that is unknown, malformed, expired or revoked; none where one is
    │                            required (exit 4); never echoes the secret
    ├── ProvisioningError        plan/apply failed; earlier steps were undone
    ├── CatalogError             the catalog cannot be opened or migrated
    ├── EngineError              the compute engine cannot be reached or used (mesh.yaml engine:)
    ├── LimitError               a query stopped by a bound of mesh.yaml's ``limits:``
    │   ├── QueryTimeoutError    it ran longer than the timeout (HTTP 408)
    │   ├── ResultTooLargeError  its result or its memory passed the cap (HTTP 413)
    │   └── QueryCancelledError  the caller went away or the server is stopping
    ├── FormatError              import/export: an unknown format, a file of another format than named, an
    │                            unsupported version of one (exit 2); nothing was written
    ├── LossyExportError         a contract the target format cannot fully carry, without --lossy (exit 1)
    ├── UnsafeServeError         ``tessera serve`` asked to expose a mesh that does not enforce access (exit 2)
    ├── IdentityProviderError    mesh.yaml ``auth.oidc`` unusable: the provider unreachable or misdescribed,
    │                            the client secret's variable unset (exit 2; HTTP 503)
    ├── NotImplementedYetError   a capability that is declared but not built in this release
    └── TransientError           worth retrying (Delta commit conflicts): ``retryable`` is True

The CLI turns any of these into one message and an exit code (``exit_code``); never a traceback.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from tessera.model.results import QualityRun

__all__ = [
    "HTTP_STATUS",
    "AccessDeniedError",
    "AddressError",
    "AuthenticationError",
    "CatalogError",
    "ConflictError",
    "DataError",
    "EngineError",
    "ErasureError",
    "FormatError",
    "InputError",
    "LimitError",
    "LossyExportError",
    "NotFoundError",
    "NotImplementedYetError",
    "PolicyViolationError",
    "Problem",
    "ProvisioningError",
    "QualityGateError",
    "QueryCancelledError",
    "QueryError",
    "QueryTimeoutError",
    "ResultTooLargeError",
    "RetiredError",
    "SpecError",
    "StorageError",
    "TesseraError",
    "TransientError",
    "UnsafeServeError",
    "VersionGateError",
    "by_name",
    "status_of",
]


class TesseraError(Exception):
    """Root of every error Tessera raises on purpose."""

    exit_code: int = 1
    retryable: bool = False


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong in one file: where, which key, what. A ``warning`` is something others' tools write that
    the standard refuses and Tessera can read (a datacontract-cli server key): reported, not refused, unless a
    command runs ``--strict``."""

    file: str
    line: int | None
    key: str
    message: str
    severity: Literal["error", "warning"] = "error"

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        key = f" {self.key}:" if self.key else ""
        mark = " warning:" if self.severity == "warning" else ""
        return f"{where}:{mark}{key} {self.message}"

    @property
    def is_error(self) -> bool:
        return self.severity == "error"


class SpecError(TesseraError):
    """Mesh files that do not load or validate. Holds every problem found, not only the first."""

    exit_code = 2

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = tuple(problems)
        count = len(self.problems)
        lines = "\n".join(f"  {p}" for p in self.problems)
        files = sorted({p.file for p in self.problems})
        where = files[0] if len(files) == 1 else f"{len(files)} files"
        super().__init__(f"{count} problem{'s' if count != 1 else ''} in {where}:\n{lines}")


class AddressError(TesseraError):
    exit_code = 2


class NotFoundError(TesseraError):
    pass


class DataError(TesseraError):
    pass


class QueryError(DataError):
    """SQL the engine refused: the engine's own first line, and what was being run. ``detail`` keeps the
    engine's whole message (its candidate names), for the reader's "did you mean" (``engine/sql_errors.py``)."""

    def __init__(self, message: str, detail: str = "") -> None:
        self.detail = detail
        super().__init__(message)


class InputError(DataError):
    """The data a bare contract names cannot be used (``tessera test``): nothing could be judged."""

    exit_code = 2


class QualityGateError(TesseraError):
    """``run`` is the refused run; None when the error came back from a remote mesh (its message holds it).
    ``summary`` is the run's ``summary()`` on both sides (outcome, rows, checks, failed, warnings)."""

    def __init__(
        self, message: str, run: QualityRun | None = None, *, summary: dict[str, Any] | None = None
    ) -> None:
        self.run = run
        self.summary = run.summary() if run is not None else summary
        super().__init__(message)


class VersionGateError(TesseraError):
    def __init__(self, message: str, changes: Sequence[Any] = ()) -> None:
        self.changes = tuple(changes)
        super().__init__(message)


class PolicyViolationError(TesseraError):
    """A publish refused by the governance gate: ``violations`` holds every violation found (errors first)."""

    def __init__(self, message: str, violations: Sequence[Any] = ()) -> None:
        self.violations = tuple(violations)
        super().__init__(message)


class ErasureError(TesseraError):
    """A right-to-erasure request that cannot be carried out as asked: a subject that is not ``KEY=VALUE``, or a
    key that no contract classifies. Nothing has been changed."""

    exit_code = 2


class FormatError(TesseraError):
    """A file that import or export cannot read as the format named: an unknown format, a file that is another
    format (the message says which it looks like), a version of a format that is not supported, a file inside a
    mesh's storage root or ``.tessera/``. Nothing was written."""

    exit_code = 2


class LossyExportError(TesseraError):
    """A contract that the export format cannot fully express: ``dropped`` lists each field left out. Nothing
    was written (``--lossy`` writes it anyway, with a warning)."""

    def __init__(self, message: str, dropped: Sequence[str] = ()) -> None:
        self.dropped = tuple(dropped)
        super().__init__(message)


class UnsafeServeError(TesseraError):
    """``tessera serve`` on a non-loopback address for a mesh that does not enforce access control, without
    ``--allow-anonymous``: anyone who reached it would read every product. Nothing was started."""

    exit_code = 2


class RetiredError(TesseraError):
    pass


class AccessDeniedError(TesseraError):
    """A principal may not do an action on a resource: the message names all three and the grant that would
    allow it."""

    exit_code = 3


class AuthenticationError(TesseraError):
    """Who is calling cannot be established: the token is unknown, malformed, expired or revoked, or the mesh
    enforces access control and no token was given."""

    exit_code = 4


class ProvisioningError(TesseraError):
    pass


class CatalogError(TesseraError):
    pass


class ConflictError(TesseraError):
    """The request contradicts the current state (an access request already decided): nothing changed."""


class StorageError(TesseraError):
    """The storage root cannot be used: a bucket that does not exist, an object store that cannot be reached,
    credentials it refuses. The message names the mesh.yaml setting to look at."""


class EngineError(TesseraError):
    """The engine that mesh.yaml names cannot be used: a Spark Connect server that does not answer, a client
    library that is not installed. The message names the ``engine:`` setting."""


class LimitError(TesseraError):
    """A query stopped by one of the bounds in mesh.yaml's ``limits:``; nothing was returned."""


class QueryTimeoutError(LimitError):
    """It ran longer than ``limits.timeout`` (or ``transformTimeout``) and was interrupted."""


class ResultTooLargeError(LimitError):
    """Its result, or the memory it took, passed ``limits.maxRows``/``maxBytes``/``memory``."""


class QueryCancelledError(LimitError):
    """Its caller went away, or the server is stopping."""


class NotImplementedYetError(TesseraError):
    pass


class TransientError(TesseraError):
    retryable = True


class IdentityProviderError(TesseraError):
    """mesh.yaml's ``auth.oidc`` cannot be used: the provider is unreachable or its discovery document or keys
    are wrong, or the client secret's variable is not set (docs/identity.md, Single sign-on)."""

    exit_code = 2


#: Each error's HTTP status and problem title, the most specific class first (QueryError is a DataError). The
#: server answers with it and the remote SDK reads answers back by it: one table for both sides.
HTTP_STATUS: tuple[tuple[type[TesseraError], int, str], ...] = (
    (AuthenticationError, 401, "Authentication required"),
    (AccessDeniedError, 403, "Access denied"),
    (NotFoundError, 404, "Not found"),
    (RetiredError, 410, "Version retired"),
    (AddressError, 400, "Bad address"),
    (QueryTimeoutError, 408, "Query timed out"),
    (ResultTooLargeError, 413, "Result too large"),
    (QueryCancelledError, 503, "Query cancelled"),
    (QueryError, 400, "Query refused"),
    (InputError, 422, "Input unusable"),
    (SpecError, 422, "Invalid mesh document"),
    (ErasureError, 422, "Invalid erasure request"),
    (FormatError, 422, "Unreadable format"),
    (LossyExportError, 422, "Export would lose fields"),
    (QualityGateError, 422, "Refused by the quality gate"),
    (PolicyViolationError, 422, "Refused by policy"),
    (DataError, 422, "Data refused"),
    (VersionGateError, 409, "Breaking change without a major version"),
    (TransientError, 409, "Conflict, retry"),
    (ConflictError, 409, "Conflict"),
    (ProvisioningError, 409, "Provisioning failed"),
    (StorageError, 503, "Storage unavailable"),
    (EngineError, 503, "Engine unavailable"),
    (CatalogError, 503, "Catalog unavailable"),
    (IdentityProviderError, 503, "Identity provider unavailable"),
    (NotImplementedYetError, 501, "Not implemented"),
)


def status_of(exc: TesseraError) -> tuple[int, str]:
    """The HTTP status and title of an error (400 for one the table does not name)."""
    for kind, status, title in HTTP_STATUS:
        if isinstance(exc, kind):
            return status, title
    return 400, "Request refused"


def by_name(name: str) -> type[TesseraError] | None:
    """The error class a server named in its problem+json ``type`` (``QueryTimeoutError``), if it is one."""
    found = globals().get(name) if name.endswith("Error") else None
    return found if isinstance(found, type) and issubclass(found, TesseraError) else None
