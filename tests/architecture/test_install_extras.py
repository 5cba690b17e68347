"""The HTTP stack is the ``server`` extra: the embedded SDK and CLI never import it, and ``tessera serve``
without it says how to install it instead of failing with a traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import tessera
from tests.fixtures.meshkit import orders_table

_BLOCK = """
import sys
class Block:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {"fastapi", "uvicorn", "starlette", "jinja2", "prometheus_client"}:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None
sys.meta_path.insert(0, Block())
"""


def _run(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", _BLOCK + code], capture_output=True, text=True, timeout=300)


def test_serve_without_the_server_extra_says_how_to_install_it(mesh_dir: Path) -> None:
    result = _run(f"from tessera.cli import main; raise SystemExit(main(['-C', {str(mesh_dir)!r}, 'serve']))")
    assert result.returncode == 1, result.stderr
    assert "pip install 'tessera[server]'" in result.stderr and "Traceback" not in result.stderr


def test_the_embedded_sdk_and_cli_work_without_the_server_extra(mesh_dir: Path) -> None:
    with tessera.open(mesh_dir) as mesh:
        mesh.publish("sales.orders", orders_table())
    code = f"""
import tessera
with tessera.open({str(mesh_dir)!r}) as mesh:
    assert mesh.read("sales.orders").num_rows == 100
    assert mesh.query("select count(*) as n from sales.orders").to_pylist() == [{{"n": 100}}]
    assert mesh.product("sales.orders").quality()
from tessera.cli import main
assert main(["-C", {str(mesh_dir)!r}, "catalog"]) == 0
assert not any(m.split(".")[0] in {{"fastapi", "uvicorn", "starlette"}} for m in sys.modules)
"""
    result = _run(code)
    assert result.returncode == 0, result.stderr
