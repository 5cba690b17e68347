#!/usr/bin/env python
"""Take the README's screenshot of the web catalog: the example mesh (built small in a temporary folder, or the
mesh folder given) served by ``tessera serve``'s app, a product page's overview tab opened in Debian's Chromium
by an analyst who may read the product without clearance (so the data preview shows its personal data masked).

Usage: .venv/bin/python scripts/screenshot.py [MESH_DIR] [--out docs/images/product-page.png]
"""

from __future__ import annotations

import argparse
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import uvicorn

REPO = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
PRODUCT = "customer_experience/customer_360_view"
ANALYST = "analyst@example.com"


def build_example(folder: Path) -> Path:
    tessera = str(Path(sys.executable).with_name("tessera"))
    mesh = folder / "example-mesh"
    subprocess.run([tessera, "init", str(mesh), "--example", "--scale", "0.2"], check=True)
    for command in (["apply"], ["build"]):
        subprocess.run([tessera, "-C", str(mesh), *command], check=True, stdout=subprocess.DEVNULL)
    return mesh


def analyst_token(mesh: Path) -> str:
    """A reader of the product without clearance: the page's preview is read, masked, for them."""
    import tessera

    with tessera.open(mesh) as opened:
        opened.access.add_principal(ANALYST)
        opened.access.grant("read", PRODUCT.replace("/", "."), ANALYST)
        return opened.access.create_token(ANALYST, days=1)[1]


def serve(mesh: Path) -> tuple[str, uvicorn.Server, threading.Thread]:
    from tessera.server import create_app

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    server = uvicorn.Server(
        uvicorn.Config(create_app(mesh), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    return f"http://127.0.0.1:{port}", server, thread


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mesh", nargs="?", help="a built mesh folder (default: build the example mesh)")
    parser.add_argument("--out", default=str(REPO / "docs/images/product-page.png"))
    args = parser.parse_args()
    if not Path(CHROMIUM).exists():
        print(f"{CHROMIUM} is missing: apt-get install -y chromium", file=sys.stderr)
        return 1
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        mesh = Path(args.mesh) if args.mesh else build_example(Path(tmp))
        token = analyst_token(mesh.resolve())
        base, server, thread = serve(mesh.resolve())
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
                context = browser.new_context(viewport={"width": 1280, "height": 1500})
                context.add_cookies([{"name": "tessera_token", "value": token, "url": base}])
                page = context.new_page()
                page.goto(f"{base}/products/{PRODUCT}")
                page.locator("#preview-table").wait_for()
                Path(args.out).parent.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=args.out)
                browser.close()
        finally:
            server.should_exit = True
            thread.join(timeout=10)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
