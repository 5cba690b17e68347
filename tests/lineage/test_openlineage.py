"""OpenLineage: events validate against the vendored spec (the event and each facet against its own schema);
transports deliver to a real file, a real local HTTP receiver and stderr."""

from __future__ import annotations

import json
import multiprocessing
import socket
import threading
import uuid
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from jsonschema import FormatChecker, ValidationError
from jsonschema.validators import Draft202012Validator
from referencing import Registry, Resource

from tessera.errors import TesseraError, TransientError
from tessera.lineage.openlineage import PRODUCER, DatasetRef, run_event
from tessera.lineage.transports import (
    ConsoleTransport,
    FileTransport,
    HttpTransport,
    transport_from_settings,
)
from tessera.model.results import Check, QualityRun

SPEC = Path(__file__).resolve().parents[2].parent / "shared" / "vendor" / "openlineage-spec"
NS = "tessera://acme"
RUN_ID = uuid.uuid4().hex
T0 = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)


# ---- the vendored spec ------------------------------------------------------------------------------------


class Spec:
    """The vendored schemas in one local registry (keyed by ``$id``: no network)."""

    def __init__(self, folder: Path) -> None:
        files = [folder / "OpenLineage.json", *sorted((folder / "facets").glob("*.json"))]
        self.documents = {}
        for path in files:
            contents = json.loads(path.read_text())
            self.documents[contents["$id"]] = contents
        self.registry: Registry[Any] = Registry().with_resources(
            (uri, Resource.from_contents(doc)) for uri, doc in self.documents.items()
        )
        self.core = self.documents["https://openlineage.io/spec/2-0-2/OpenLineage.json"]

    def validate_event(self, event: dict[str, Any]) -> int:
        """The event against OpenLineage.json, then every facet against its ``_schemaURL``; facets seen."""
        self._validate(self.core, event)
        assert event["schemaURL"].split("#")[0] in self.documents
        facets = [*event["run"].get("facets", {}).items(), *event["job"].get("facets", {}).items()]
        for dataset in [*event.get("inputs", []), *event.get("outputs", [])]:
            for group in ("facets", "inputFacets", "outputFacets"):
                facets.extend(dataset.get(group, {}).items())
        for key, facet in facets:
            url = facet["_schemaURL"]
            document = self.documents[url.split("#")[0]]
            assert key in document["properties"], f"{key} is not the key {url} defines"
            self._validate({"$ref": url}, facet)
        return len(facets)

    def _validate(self, schema: dict[str, Any], instance: dict[str, Any]) -> None:
        Draft202012Validator(schema, registry=self.registry, format_checker=FormatChecker()).validate(
            instance
        )


@pytest.fixture(scope="module")
def spec() -> Spec:
    if not SPEC.is_dir():
        pytest.skip(f"the vendored OpenLineage spec is not next to the repo ({SPEC}): cannot validate events")
    return Spec(SPEC)


# ---- realistic inputs -------------------------------------------------------------------------------------


def _check(name: str, metric: str, column: str | None, measured: float | None, **kw: Any) -> Check:
    kw.setdefault("outcome", "passed")
    kw.setdefault("severity", "error")
    return Check(name, metric, column, kw.pop("threshold", "= 0"), measured, **kw)


QUALITY = QualityRun(
    run_id=RUN_ID,
    subject="sales.orders",
    contract_version="1.2.0",
    started_at=T0,
    finished_at=T0 + timedelta(seconds=2),
    row_count=400,
    checks=(
        _check("table.rowCount", "rowCount", None, 400, threshold="> 0"),
        _check("order_id.required", "required", "order_id", 0),
        _check("order_id.primaryKey", "primaryKey", "order_id", 0),
        _check("email.nullValues", "nullValues", "email", 2.5, unit="percent", threshold="<= 5"),
        _check("email.duplicateValues", "duplicateValues", "email", 5, threshold="<= 10", severity="warning"),
        _check(
            "amount.range",
            "range",
            "amount",
            3,
            outcome="failed",
            message="range on amount (minimum 0): 3 rows out of range",
        ),
        _check(
            "table.custom", "custom", None, None, outcome="error", message="custom: could not be measured"
        ),
    ),
)
ORDERS_RAW = DatasetRef(
    NS,
    "source.crm.orders",
    fields=(("order_id", "BIGINT", None), ("customer_id", "BIGINT", None), ("amount", "DECIMAL(12,2)", None)),
)
CUSTOMERS = DatasetRef(
    NS, "crm.customers", fields=(("customer_id", "BIGINT", None), ("email", "VARCHAR", None))
)
ORDERS = DatasetRef(
    NS,
    "sales.orders",
    fields=(
        ("order_id", "integer", "Order number"),
        ("email", "string", "Customer email (pii)"),
        ("amount", "number", None),
    ),
    version="7",
    owners=(("user:alice", "product owner"), ("team:sales", "")),
    description="One row per order, enriched with the customer's email.",
    column_lineage={
        "order_id": [(NS, "source.crm.orders", "order_id", "identity")],
        "email": [
            (NS, "crm.customers", "email", "transformation"),
            (NS, "crm.customers", "customer_id", "join"),
        ],
        "amount": [(NS, "source.crm.orders", "amount", "aggregation")],
        "": [(NS, "source.crm.orders", "amount", "filter")],
    },
)


def _events() -> list[dict[str, Any]]:
    common: dict[str, Any] = {
        "run_id": RUN_ID,
        "job_namespace": NS,
        "job_name": "sales.orders.build",
        "inputs": [ORDERS_RAW, CUSTOMERS],
    }
    return [
        run_event("START", outputs=[DatasetRef(NS, "sales.orders")], event_time=T0, **common),
        run_event(
            "COMPLETE", outputs=[ORDERS], quality=QUALITY, event_time=T0 + timedelta(seconds=3), **common
        ),
        run_event(
            "FAIL",
            outputs=[ORDERS],
            quality=QUALITY,
            error="quality gate refused sales.orders: amount.range failed (3 rows)",
            **common,
        ),
    ]


# ---- events -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("index", "facets"), [(0, 2), (1, 9), (2, 10)], ids=["START", "COMPLETE", "FAIL"])
def test_every_event_and_facet_validates(spec: Spec, index: int, facets: int) -> None:
    event = _events()[index]
    assert spec.validate_event(event) == facets
    assert event["producer"] == PRODUCER and event["producer"].startswith("https://github.com/tessera-mesh/")
    assert event["run"]["runId"] == str(uuid.UUID(hex=RUN_ID))
    assert event["job"] == {"namespace": NS, "name": "sales.orders.build"}
    assert datetime.fromisoformat(event["eventTime"]).tzinfo is not None
    assert event["eventTime"].endswith("Z")


def test_validation_is_not_vacuous(spec: Spec) -> None:
    event = _events()[2]
    del event["outputs"][0]["facets"]["version"]["datasetVersion"]
    with pytest.raises(ValidationError, match="datasetVersion"):
        spec.validate_event(event)
    event = _events()[0]
    event["run"]["runId"] = "not-a-uuid"
    with pytest.raises(ValidationError, match="uuid"):
        spec.validate_event(event)


def test_complete_event_carries_every_facet() -> None:
    output = _events()[1]["outputs"][0]
    facets = output["facets"]
    assert set(facets) == {
        "schema",
        "columnLineage",
        "dataQualityMetrics",
        "dataQualityAssertions",
        "ownership",
        "version",
        "documentation",
    }
    assert facets["version"]["datasetVersion"] == "7"
    assert facets["schema"]["fields"][0] == {
        "name": "order_id",
        "type": "integer",
        "ordinal_position": 1,
        "description": "Order number",
    }
    assert facets["ownership"]["owners"] == [
        {"name": "user:alice", "type": "product owner"},
        {"name": "team:sales"},
    ]
    assert facets["documentation"]["description"].startswith("One row per order")
    assert "errorMessage" not in _events()[1]["run"].get("facets", {})


def test_column_lineage_maps_kinds_to_spec_transformations() -> None:
    lineage = _events()[1]["outputs"][0]["facets"]["columnLineage"]
    kinds = {
        (column, f["field"]): (t["type"], t["subtype"])
        for column, spec in lineage["fields"].items()
        for f in spec["inputFields"]
        for t in f["transformations"]
    }
    assert kinds == {
        ("order_id", "order_id"): ("DIRECT", "IDENTITY"),
        ("email", "email"): ("DIRECT", "TRANSFORMATION"),
        ("email", "customer_id"): ("INDIRECT", "JOIN"),
        ("amount", "amount"): ("DIRECT", "AGGREGATION"),
    }
    assert lineage["fields"]["email"]["inputFields"][0]["name"] == "crm.customers"
    assert [(f["field"], f["transformations"][0]["subtype"]) for f in lineage["dataset"]] == [
        ("amount", "FILTER")
    ]


def test_quality_metrics_and_assertions_come_from_the_checks() -> None:
    facets = _events()[1]["outputs"][0]["facets"]
    metrics = facets["dataQualityMetrics"]
    assert metrics["rowCount"] == 400
    assert metrics["columnMetrics"] == {
        "order_id": {"nullCount": 0, "distinctCount": 400},
        "email": {"nullCount": 10, "distinctCount": 385},  # 2.5 % of 400 null; 400 - 10 - 5 duplicates
    }
    assertions = {a["name"]: a for a in facets["dataQualityAssertions"]["assertions"]}
    assert len(assertions) == len(QUALITY.checks)
    assert assertions["amount.range"] == {
        "assertion": "range",
        "success": False,
        "name": "amount.range",
        "severity": "error",
        "expected": "= 0",
        "column": "amount",
        "actual": "3",
        "description": "range on amount (minimum 0): 3 rows out of range",
    }
    assert assertions["email.nullValues"]["actual"] == "2.5"
    assert "column" not in assertions["table.rowCount"]
    assert assertions["table.custom"]["success"] is False and "actual" not in assertions["table.custom"]
    inputs = _events()[1]["inputs"]
    assert all("dataQualityMetrics" not in d["facets"] for d in inputs)


def test_fail_event_carries_the_error_message() -> None:
    facet = _events()[2]["run"]["facets"]["errorMessage"]
    assert facet["message"].startswith("quality gate refused sales.orders")
    assert facet["programmingLanguage"] == "PYTHON"
    bare = run_event("FAIL", run_id=RUN_ID, job_namespace=NS, job_name="j", inputs=[], outputs=[])
    assert bare["run"]["facets"]["errorMessage"]["message"]


def test_run_ids_and_times_are_normalised() -> None:
    def event(run_id: str, at: datetime) -> dict[str, Any]:
        return run_event(
            "START", run_id=run_id, job_namespace=NS, job_name="j", inputs=[], outputs=[], event_time=at
        )

    plus2 = timezone(timedelta(hours=2))
    assert event(RUN_ID, datetime(2024, 6, 1, 14, 0, tzinfo=plus2))["eventTime"] == "2024-06-01T12:00:00.000Z"
    assert event(RUN_ID, datetime(2024, 6, 1, 12, 0))["eventTime"] == "2024-06-01T12:00:00.000Z"
    dashed = str(uuid.uuid4())
    assert event(dashed, T0)["run"]["runId"] == dashed
    odd = event("build-42", T0)["run"]["runId"]
    assert odd == event("build-42", T0)["run"]["runId"] and uuid.UUID(odd)
    assert "outputs" in event(RUN_ID, T0) and event(RUN_ID, T0)["outputs"] == []


def test_unknown_lineage_kind_is_refused_with_its_column() -> None:
    ref = DatasetRef(NS, "sales.orders", column_lineage={"x": [(NS, "a.b", "y", "magic")]})
    with pytest.raises(TesseraError, match=r"a\.b\.y: unknown transformation kind 'magic'"):
        run_event("START", run_id=RUN_ID, job_namespace=NS, job_name="j", inputs=[], outputs=[ref])


# ---- transports -------------------------------------------------------------------------------------------


def test_file_transport_appends_ndjson_that_validates(tmp_path: Path, spec: Spec) -> None:
    path = tmp_path / "deep" / "er" / "openlineage.ndjson"
    transport = FileTransport(path)
    events = _events()
    for event in events:
        transport.emit(event)
    lines = path.read_text().splitlines()
    assert len(lines) == 3
    assert [json.loads(line) for line in lines] == events
    for line in lines:
        spec.validate_event(json.loads(line))


def _append_many(path: str, worker: int) -> None:
    transport = FileTransport(path)
    for i in range(100):
        transport.emit({"worker": worker, "i": i, "padding": "x" * 6000})


def test_file_transport_lines_stay_whole_across_processes(tmp_path: Path) -> None:
    path = tmp_path / "shared.ndjson"
    with ProcessPoolExecutor(3, mp_context=multiprocessing.get_context("spawn")) as pool:
        list(pool.map(_append_many, [str(path)] * 3, range(3)))
    lines = path.read_text().splitlines()
    assert len(lines) == 300
    seen = {(e["worker"], e["i"]) for e in map(json.loads, lines)}
    assert len(seen) == 300


class Receiver:
    """A real HTTP server on 127.0.0.1 that records what it is sent and answers ``status``."""

    def __init__(self, status: int = 201) -> None:
        self.requests: list[tuple[str, dict[str, str], bytes]] = []
        received = self.requests

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                received.append((self.path, dict(self.headers.items()), body))
                reply = b"" if status < 300 else b'{"error": "bad event"}'
                self.send_response(status)
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()


@pytest.fixture
def no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def receiver(no_proxy: None) -> Iterator[Receiver]:
    server = Receiver()
    yield server
    server.close()


def test_http_transport_posts_to_the_lineage_endpoint_with_the_key(receiver: Receiver, spec: Spec) -> None:
    transport = HttpTransport(receiver.url + "/", api_key="s3cret-key", timeout=2.0)
    for event in _events():
        transport.emit(event)
    assert len(receiver.requests) == 3
    path, headers, body = receiver.requests[1]
    assert path == "/api/v1/lineage"
    assert headers["Authorization"] == "Bearer s3cret-key"
    assert headers["Content-Type"] == "application/json"
    assert json.loads(body) == _events()[1]
    spec.validate_event(json.loads(body))
    assert "s3cret" not in repr(transport)


def test_http_transport_without_key_sends_no_authorization(receiver: Receiver) -> None:
    HttpTransport(receiver.url).emit(_events()[0])
    assert "Authorization" not in receiver.requests[0][1]


def test_http_transport_refused_event_is_transient_and_names_the_endpoint(no_proxy: None) -> None:
    server = Receiver(status=500)
    try:
        with pytest.raises(TransientError, match=r"api/v1/lineage refused .*HTTP 500.*bad event"):
            HttpTransport(server.url).emit(_events()[0])
    finally:
        server.close()


def test_unreachable_endpoint_is_transient(no_proxy: None) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    with pytest.raises(TransientError, match=rf"{url}/api/v1/lineage") as caught:
        HttpTransport(url, timeout=0.5).emit(_events()[0])
    assert caught.value.retryable


def test_console_transport_prints_one_line_to_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    ConsoleTransport().emit(_events()[0])
    captured = capsys.readouterr()
    assert captured.out == ""
    assert [json.loads(line) for line in captured.err.splitlines()] == [_events()[0]]


# ---- settings ---------------------------------------------------------------------------------------------


def test_settings_default_to_the_ndjson_file_in_the_mesh(tmp_path: Path) -> None:
    default = transport_from_settings(None, tmp_path)
    assert isinstance(default, FileTransport) and default.path == tmp_path / ".tessera" / "openlineage.ndjson"
    custom = transport_from_settings({"transport": "file", "path": "lineage/events.ndjson"}, tmp_path)
    assert isinstance(custom, FileTransport) and custom.path == tmp_path / "lineage" / "events.ndjson"
    custom.emit(_events()[0])
    assert len(custom.path.read_text().splitlines()) == 1
    assert isinstance(transport_from_settings({"transport": "console"}, tmp_path), ConsoleTransport)


def test_settings_http_reads_the_key_from_the_named_variable(
    tmp_path: Path, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TESSERA_TEST_LINEAGE_KEY", "from-env")
    settings = {"transport": "http", "url": receiver.url, "apiKeyEnv": "TESSERA_TEST_LINEAGE_KEY"}
    transport = transport_from_settings(settings, tmp_path)
    transport.emit(_events()[0])
    assert receiver.requests[0][1]["Authorization"] == "Bearer from-env"
    monkeypatch.delenv("TESSERA_TEST_LINEAGE_KEY")
    with pytest.raises(TesseraError, match="TESSERA_TEST_LINEAGE_KEY, which is not set"):
        transport_from_settings(settings, tmp_path)


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"transport": "kafka"}, "unknown lineage.transport 'kafka': use file"),
        ({"transport": "http"}, "lineage.url must be an http"),
        ({"transport": "http", "url": "marquez:5000"}, "lineage.url must be an http"),
    ],
)
def test_bad_settings_say_what_to_fix(tmp_path: Path, settings: dict[str, Any], message: str) -> None:
    with pytest.raises(TesseraError, match=message):
        transport_from_settings(settings, tmp_path)
