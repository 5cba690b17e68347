"""OpenLineage over HTTP to the paths real servers use: a local receiver at DataHub's path and one at
Marquez's get schema-valid events from a build, configured with docs/lineage.md's own snippets; headers take
their secrets from the environment and never show them."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

import tessera
from tessera.errors import SpecError, TesseraError
from tessera.lineage.transports import HttpTransport, endpoint_url, transport_from_settings
from tessera.platform.observability.events import LineageDeliveryWarning
from tessera.spec import load_mesh
from tests.lineage.test_openlineage import SPEC, Spec

DOCS = Path(__file__).resolve().parents[2] / "docs" / "lineage.md"
DATAHUB_PATH = "/openapi/openlineage/api/v1/lineage"
MARQUEZ_PATH = "/api/v1/lineage"


@dataclass
class Server:
    """A lineage server that takes events only at its path (anything else is a 404, as on the real ones)."""

    path: str
    status: int
    url: str = ""
    events: list[tuple[dict[str, str], dict[str, Any]]] = field(default_factory=list)
    elsewhere: list[str] = field(default_factory=list)


@pytest.fixture
def servers() -> Iterator[dict[str, Server]]:
    found = {"datahub": Server(DATAHUB_PATH, 200), "marquez": Server(MARQUEZ_PATH, 201)}
    running = []
    for state in found.values():

        class Handler(BaseHTTPRequestHandler):
            server_state = state

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                me = self.server_state
                if self.path != me.path:
                    me.elsewhere.append(self.path)
                    self.send_response(404)
                else:
                    me.events.append((dict(self.headers.items()), json.loads(body)))
                    self.send_response(me.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
        thread.start()
        state.url = f"http://127.0.0.1:{server.server_address[1]}"
        running.append((server, thread))
    try:
        yield found
    finally:
        for server, thread in running:
            server.shutdown()
            server.server_close()
            thread.join()


def _snippet(heading: str) -> str:
    """The first yaml block under ``heading`` in docs/lineage.md."""
    section = DOCS.read_text().split(f"## {heading}\n", 1)[1].split("\n## ", 1)[0]
    match = re.search(r"```yaml\n(.*?)```", section, re.S)
    assert match, f"no yaml block under {heading}"
    return match.group(1)


def _configure(mesh_dir: Path, snippet: str, url: str) -> None:
    block = re.sub(r"http://localhost:\d+", url, snippet)
    assert block != snippet, "the snippet names a localhost URL"
    (mesh_dir / "mesh.yaml").write_text((mesh_dir / "mesh.yaml").read_text() + block)


@pytest.mark.parametrize("name", ["datahub", "marquez"])
def test_the_documented_recipe_delivers_schema_valid_events(
    name: str, mesh_dir: Path, servers: dict[str, Server], monkeypatch: pytest.MonkeyPatch
) -> None:
    if not SPEC.is_dir():
        pytest.skip(f"the vendored OpenLineage spec is not next to the repo ({SPEC}): cannot validate events")
    spec = Spec(SPEC)
    server = servers[name]
    _configure(mesh_dir, _snippet("DataHub" if name == "datahub" else "Marquez"), server.url)
    monkeypatch.setenv("DATAHUB_TOKEN", "dh-s3cret-token")

    with tessera.open(mesh_dir) as mesh:
        [outcome] = mesh.build(["sales.orders"], jobs=1)
    assert outcome.status == "published", outcome.message

    assert server.elsewhere == []
    assert [e["eventType"] for _, e in server.events] == ["START", "COMPLETE"]
    facets = sum(spec.validate_event(event) for _, event in server.events)
    assert facets >= 5
    complete = server.events[1][1]
    output = complete["outputs"][0]
    assert output["name"] == "sales.orders"
    assert {"schema", "columnLineage", "dataQualityAssertions", "ownership"} <= set(output["facets"])
    headers = server.events[0][0]
    if name == "datahub":
        assert headers["Authorization"] == "Bearer dh-s3cret-token"
    else:
        assert "Authorization" not in headers
    assert not (mesh_dir / ".tessera/openlineage.ndjson").exists()  # nothing fell back to the file


def test_the_endpoint_joins_the_url_once() -> None:
    assert endpoint_url("http://gms:8080/", "openapi/openlineage/api/v1/lineage") == (
        "http://gms:8080/openapi/openlineage/api/v1/lineage"
    )
    assert endpoint_url("http://marquez:5000") == "http://marquez:5000/api/v1/lineage"
    assert endpoint_url("http://marquez:5000/api/v1/lineage") == "http://marquez:5000/api/v1/lineage"
    assert endpoint_url("http://proxy/ingest", "/") == "http://proxy/ingest"


def test_header_values_never_show(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATAHUB_TOKEN", "dh-s3cret-token")
    settings = {
        "transport": "http",
        "url": "http://127.0.0.1:9",
        "endpoint": DATAHUB_PATH,
        "headers": {"Authorization": "Bearer ${DATAHUB_TOKEN}", "X-Tenant": "acme"},
        "timeout": 0.5,
    }
    transport = transport_from_settings(settings, tmp_path)
    assert isinstance(transport, HttpTransport)
    assert transport.endpoint == "http://127.0.0.1:9" + DATAHUB_PATH
    assert "s3cret" not in repr(transport) and "acme" not in repr(transport)
    with pytest.raises(TesseraError) as refused:
        transport.emit({"eventType": "START"})
    assert "s3cret" not in str(refused.value)

    monkeypatch.delenv("DATAHUB_TOKEN")
    with pytest.raises(TesseraError, match=r"lineage\.headers\.Authorization uses \$\{DATAHUB_TOKEN\}"):
        transport_from_settings(settings, tmp_path)


def test_an_unset_token_warns_names_the_variable_and_still_publishes(
    mesh_dir: Path, servers: dict[str, Server], monkeypatch: pytest.MonkeyPatch
) -> None:
    _configure(mesh_dir, _snippet("DataHub"), servers["datahub"].url)
    monkeypatch.delenv("DATAHUB_TOKEN", raising=False)
    with tessera.open(mesh_dir) as mesh, pytest.warns(LineageDeliveryWarning, match="DATAHUB_TOKEN"):
        [outcome] = mesh.build(["sales.orders"], jobs=1)
    assert outcome.status == "published"
    assert servers["datahub"].events == []
    kept = (mesh_dir / ".tessera/openlineage.ndjson").read_text().splitlines()
    assert [json.loads(line)["eventType"] for line in kept] == ["START", "COMPLETE"]


@pytest.mark.parametrize(
    ("block", "key", "says"),
    [
        ("  endpoint: http://gms:8080/openapi\n", "lineage.endpoint", "a path on lineage.url"),
        ("  endpoint: api/v1/lineage?x=1\n", "lineage.endpoint", "not a URL nor a query"),
        (
            "  headers:\n    Authorization: Bearer hunter2-literal\n",
            "lineage.headers.Authorization",
            "secret",
        ),
        ("  headers:\n    X-Api-Key: hunter2-literal\n", "lineage.headers.X-Api-Key", "environment"),
        ("  headers:\n    Authorization: Bearer ${lower-case}\n", "lineage.headers.Authorization", "${NAME}"),
        ("  headers:\n    Bad Name: x\n", "lineage.headers.Bad Name", "not an HTTP header name"),
        ("  headers:\n    Content-Type: text/plain\n", "lineage.headers.Content-Type", "set by Tessera"),
        ("  headers:\n    X-Retries: 3\n", "lineage.headers.X-Retries", "string"),
        (
            "  apiKeyEnv: KEY\n  headers:\n    Authorization: Bearer ${KEY}\n",
            "lineage.headers.Authorization",
            "not both",
        ),
    ],
)
def test_bad_lineage_settings_are_refused_with_file_and_line(
    mesh_dir: Path, block: str, key: str, says: str
) -> None:
    text = (mesh_dir / "mesh.yaml").read_text()
    line = len(text.splitlines()) + 2 + block.count("\n") - 1
    (mesh_dir / "mesh.yaml").write_text(
        text + "lineage:\n  transport: http\n  url: http://gms:8080\n" + block
    )
    with pytest.raises(SpecError) as refused:
        load_mesh(mesh_dir)
    [problem] = [p for p in refused.value.problems if p.key == key]
    assert says in problem.message
    assert problem.file == "mesh.yaml" and problem.line == line + 2
    assert "hunter2" not in str(refused.value)


def test_doctor_tries_the_endpoint_and_the_header_variables(
    mesh_dir: Path, servers: dict[str, Server], monkeypatch: pytest.MonkeyPatch
) -> None:
    from tessera.platform.provisioning.doctor import diagnose

    _configure(mesh_dir, _snippet("DataHub"), servers["datahub"].url)
    monkeypatch.delenv("DATAHUB_TOKEN", raising=False)
    [unset] = [c for c in diagnose(mesh_dir) if c.part == "lineage"]
    assert not unset.ok and "DATAHUB_TOKEN" in unset.detail
    assert unset.target == servers["datahub"].url + DATAHUB_PATH

    monkeypatch.setenv("DATAHUB_TOKEN", "dh-s3cret-token")
    [found] = [c for c in diagnose(mesh_dir) if c.part == "lineage"]
    assert found.ok and "reachable" in found.detail
    assert "s3cret" not in json.dumps([c.as_dict() for c in diagnose(mesh_dir)])
