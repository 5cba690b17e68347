"""Text that other people wrote reaches the reader's terminal as plain text: Rich markup shows its brackets,
ESC and the other control characters are shown as ``\\x1b``. Every listed command runs under a pseudo-terminal
with a real TERM, so Rich would colour and link if it were asked to."""

from __future__ import annotations

import fcntl
import os
import pty
import struct
import subprocess
import sys
import termios
from pathlib import Path

import pytest
import yaml

import tessera
from tessera.cli.render import plain
from tests.fixtures.meshkit import make_mesh, orders_table

MARKUP = "[link=https://evil]click[/link] [red]x[/red]"
PAYLOAD = MARKUP + " \x1b]8;;http://evil\x1b\\hidden\x1b]8;;\x1b\\ \x1b[2J\u202eevil"


@pytest.fixture(scope="module")
def mesh(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = make_mesh(tmp_path_factory.mktemp("pty") / "mesh")
    contract_file = root / "domains/sales/products/orders/contract.odcs.yaml"
    contract = yaml.safe_load(contract_file.read_text())
    contract["schema"][0]["properties"][0]["description"] = PAYLOAD
    contract_file.write_text(yaml.safe_dump(contract, sort_keys=False))
    product_file = root / "domains/sales/products/orders/product.odps.yaml"
    product = yaml.safe_load(product_file.read_text())
    product["description"]["purpose"] = "orders " + PAYLOAD
    product_file.write_text(yaml.safe_dump(product, sort_keys=False))
    policy = {
        "name": "hostile",
        "rules": [{"id": "always", "severity": "warning", "expression": "false", "message": PAYLOAD}],
    }
    (root / "policies").mkdir()
    (root / "policies/hostile.yaml").write_text(yaml.safe_dump(policy, sort_keys=False))
    with tessera.open(root) as m:
        m.apply()
        m.publish("sales.orders", orders_table())
        m.access.add_principal("eve", display_name=PAYLOAD)
        m.access.request_access("sales.orders", PAYLOAD, principal="eve")
        m.sharing.create("partners", comment=PAYLOAD)
        m.sharing.add("partners", "sales.orders")
    return root


def _under_pty(*args: str) -> bytes:
    """Run the CLI with its stdout and stderr on a 300-column pseudo-terminal; everything it wrote."""
    primary, secondary = pty.openpty()
    fcntl.ioctl(secondary, termios.TIOCSWINSZ, struct.pack("HHHH", 60, 300, 0, 0))
    env = {k: v for k, v in os.environ.items() if k not in {"COLUMNS", "NO_COLOR", "TERM"}}
    env.update(TERM="xterm-256color", FORCE_COLOR="1")
    child = subprocess.Popen(
        [sys.executable, "-m", "tessera.cli", *args], stdout=secondary, stderr=secondary, env=env
    )
    os.close(secondary)
    chunks: list[bytes] = []
    try:
        while True:
            try:
                chunk = os.read(primary, 65536)
            except OSError:  # EIO: the child closed the terminal
                break
            if not chunk:
                break
            chunks.append(chunk)
    finally:
        os.close(primary)
        child.wait(timeout=120)
    return b"".join(chunks)


COMMANDS = [
    ("access", "list"),
    ("catalog", "show", "sales.orders"),
    ("catalog", "search", "orders"),
    ("govern",),
    ("share", "list"),
    ("share", "show", "partners"),
    ("audit",),
    ("principal", "list"),
]


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c))
def test_other_peoples_text_is_plain_in_the_terminal(mesh: Path, command: tuple[str, ...]) -> None:
    out = _under_pty("-C", str(mesh), *command)
    text = out.decode("utf-8", "replace")
    assert "Traceback" not in text, text
    assert b"\x1b]8;" not in out, text  # no hyperlink, neither the payload's nor one made from markup
    assert b"\x1b[2J" not in out, text
    assert "\u202e".encode() not in out, text
    assert "http://evil" in text or "https://evil" in text, text  # the payload was printed ...
    assert "\\x1b" in text or "[link=https://evil]" in text, text  # ... as visible text


@pytest.mark.parametrize(
    "command", [("access", "list"), ("catalog", "show", "sales.orders"), ("share", "list")], ids=str
)
def test_markup_keeps_its_brackets(mesh: Path, command: tuple[str, ...]) -> None:
    text = _under_pty("-C", str(mesh), *command).decode("utf-8", "replace")
    assert "[red]x[/red]" in text, text
    assert "[link=https://evil]click[/link]" in text, text
    assert "\\x1b]8;;http://evil\\x1b\\" in text, text


def test_plain_makes_control_characters_visible() -> None:
    assert plain("a\x1b[2Jb\x07\r\u202e") == "a\\x1b[2Jb\\x07\\x0d\\u202e"
    assert plain("line\nnext\tcell") == "line\nnext\tcell"
    assert plain(None) == ""


def test_build_output_quoting_contract_text_is_plain(tmp_path: Path) -> None:
    """Found by an outside review: ``tessera build`` printed a refused product's first message line as Rich
    markup, and its full message with raw escapes; both quote contract text (a rule's name) and data."""
    root = make_mesh(tmp_path / "mesh")
    contract_file = root / "domains/sales/products/orders/contract.odcs.yaml"
    contract = yaml.safe_load(contract_file.read_text())
    contract["schema"][0]["quality"] = [
        {"type": "sql", "name": "x" + PAYLOAD.replace("\n", " "), "query": "SELECT 1", "mustBe": 0}
    ]
    contract_file.write_text(yaml.safe_dump(contract, sort_keys=False))
    out = _under_pty("-C", str(root), "build", "sales.orders")
    text = out.decode("utf-8", "replace")
    assert "refused" in text and "Traceback" not in text, text
    assert b"\x1b]8;" not in out and b"\x1b[2J" not in out and "\u202e".encode() not in out, text
    assert "[link=" in text or "\\x1b" in text, text
