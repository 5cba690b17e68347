"""Access: identities (users, service principals, groups), grants, tokens, access requests, and the masked,
row-filtered reads a principal's grants allow.

    identity   principals, group membership (nested, no cycles), tokens (random, stored hashed, shown once)
    grants     grants and revocations; authorize/require (Decision, AccessDeniedError); read_access (ReadAccess)
    filters    row filters: one SQL predicate over the product's columns, checked before it is stored
    requests   access requests (request, approve → grant, reject); consumers of a product
    model      Principal, Grant, Token, AccessRequest, Decision, ReadAccess, ROLE_PRIVILEGES

Every function takes a ``Catalog`` and, when it changes something, the ``actor``; each change appends an audit
entry in the same transaction.
"""

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tessera.access.filters import validate_row_filter
    from tessera.access.grants import (
        authorize,
        enforced,
        grant,
        list_grants,
        read_access,
        require,
        revoke,
        revoke_matching,
    )
    from tessera.access.identity import (
        add_member,
        add_principal,
        authenticate,
        create_token,
        list_principals,
        list_tokens,
        remove_member,
        remove_principal,
        revoke_token,
    )
    from tessera.access.model import (
        LOCAL,
        ROLE_PRIVILEGES,
        AccessRequest,
        Decision,
        Grant,
        Principal,
        ReadAccess,
        Token,
    )
    from tessera.access.requests import (
        approve,
        consumer_count,
        consumers,
        list_requests,
        reject,
        request_access,
    )

__all__ = [
    "LOCAL",
    "ROLE_PRIVILEGES",
    "AccessRequest",
    "Decision",
    "Grant",
    "Principal",
    "ReadAccess",
    "Token",
    "add_member",
    "add_principal",
    "approve",
    "authenticate",
    "authorize",
    "consumer_count",
    "consumers",
    "create_token",
    "enforced",
    "grant",
    "list_grants",
    "list_principals",
    "list_requests",
    "list_tokens",
    "read_access",
    "reject",
    "remove_member",
    "remove_principal",
    "request_access",
    "require",
    "revoke",
    "revoke_matching",
    "revoke_token",
    "validate_row_filter",
]

_HOMES = {
    "validate_row_filter": "filters",
    **dict.fromkeys(
        (
            "authorize",
            "enforced",
            "grant",
            "list_grants",
            "read_access",
            "require",
            "revoke",
            "revoke_matching",
        ),
        "grants",
    ),
    **dict.fromkeys(
        (
            "add_member",
            "add_principal",
            "authenticate",
            "create_token",
            "list_principals",
            "list_tokens",
            "remove_member",
            "remove_principal",
            "revoke_token",
        ),
        "identity",
    ),
    **dict.fromkeys(
        (
            "LOCAL",
            "ROLE_PRIVILEGES",
            "AccessRequest",
            "Decision",
            "Grant",
            "Principal",
            "ReadAccess",
            "Token",
        ),
        "model",
    ),
    **dict.fromkeys(
        ("approve", "consumer_count", "consumers", "list_requests", "reject", "request_access"), "requests"
    ),
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(name)
    return getattr(import_module(f"tessera.access.{home}"), name)
