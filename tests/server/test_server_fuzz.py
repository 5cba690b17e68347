"""Schemathesis over the REST API's own OpenAPI document: for every ``/api/v1`` operation, generated requests
(valid and not) never get a 5xx, and every answer matches the schema the API documents (problem+json errors
included). Bounded to a few examples an operation so it runs in about a minute."""

from __future__ import annotations

import warnings
from typing import Any

import pyarrow as pa
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error, response_schema_conformance

import tessera
from tessera.server import create_app
from tests.fixtures.meshkit import make_mesh

pytestmark = pytest.mark.slow

TOKEN: dict[str, str] = {}


@pytest.fixture(scope="module")
def api_schema(tmp_path_factory: pytest.TempPathFactory) -> Any:
    root = make_mesh(tmp_path_factory.mktemp("fuzz") / "mesh")
    with tessera.open(root) as mesh:
        mesh.apply()
        mesh.build(["sales.orders"], jobs=1)
        mesh.publish("crm.customers", pa.table({"customer_id": ["C1"], "segment": ["a"]}))
        mesh.access.add_principal("admin")
        mesh.access.grant("admin", "mesh", "admin")
        TOKEN["admin"] = mesh.access.create_token("admin")[1]
    app = create_app(root, allowed_hosts=["testserver"])  # schemathesis's ASGI client names its host so
    with warnings.catch_warnings():  # other routers' OpenAPI notes are not this test's subject
        warnings.simplefilter("ignore")
        schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    return schema.include(path_regex=r"^/api/v1/")


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_no_server_error_and_answers_match_the_schema(api_schema: Any, mode: GenerationMode) -> None:
    """Every operation, with valid (positive) or invalid (negative) generated requests, as the mesh admin."""
    headers = {"Authorization": f"Bearer {TOKEN['admin']}"}
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= 20
    fuzzed = 0

    for operation in operations:

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
        def run(case: Any) -> None:
            case.call_and_validate(headers=headers, checks=[not_a_server_error, response_schema_conformance])

        try:
            run()
        except Unsatisfiable:  # an operation with nothing to get wrong (no parameters, no body)
            assert mode is GenerationMode.NEGATIVE, operation.label
            continue
        fuzzed += 1
    assert fuzzed >= len(operations) // 2


def test_the_schema_documents_problem_details(api_schema: Any) -> None:
    document = api_schema.raw_schema
    responses = document["paths"]["/api/v1/products/{domain}/{product}"]["get"]["responses"]
    assert "application/problem+json" in responses["404"]["content"]
    assert document["components"]["schemas"]["ProblemDetails"]["required"] == ["title", "status", "detail"]
