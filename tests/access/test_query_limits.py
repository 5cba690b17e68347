"""Limits on every query: a timeout that interrupts, cancellation, a cap on results for principals, value
generators bounded by the guard, and ``limits:`` in mesh.yaml validated. No test here asserts on wall time:
the timeouts are short so that a query that is not stopped would hang the test, not slow it."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import pytest
import yaml

import tessera
from tessera.access.limits import QueryLimits, parse_size
from tessera.access.secure_query import MAX_GENERATED, check_sql
from tessera.errors import (
    AccessDeniedError,
    QueryCancelledError,
    QueryTimeoutError,
    ResultTooLargeError,
    SpecError,
)
from tessera.platform.reading.reader import Caller, Reader
from tests.fixtures.meshkit import orders_table

ENDLESS = "SELECT count(*) AS n FROM range(1000000000000::BIGINT) t(i) WHERE i % 7 = 3"


def _limits(root: Path, **limits: object) -> None:
    doc = yaml.safe_load((root / "mesh.yaml").read_text())
    doc["limits"] = limits
    (root / "mesh.yaml").write_text(yaml.safe_dump(doc))


@pytest.fixture
def limited(mesh_dir: Path) -> Path:
    with tessera.open(mesh_dir) as mesh:
        mesh.publish("sales.orders", orders_table())
        mesh.access.add_principal("ana@example.com")
        mesh.access.grant("read", "sales.orders", "ana@example.com")
    _limits(mesh_dir, timeout=1, maxRows=10)
    return mesh_dir


def test_a_query_past_the_timeout_is_stopped_with_a_clear_error(limited: Path) -> None:
    with tessera.open(limited) as mesh:
        with pytest.raises(QueryTimeoutError, match=r"longer than 1 s.*limits\.timeout"):
            mesh.query(ENDLESS, as_principal="ana@example.com")
        with pytest.raises(QueryTimeoutError):  # trusted local use is bounded in time too
            mesh.query(ENDLESS)
        assert mesh.query("SELECT count(*) AS n FROM sales.orders").to_pylist() == [{"n": 100}]


def test_the_cli_fast_path_is_bounded_too(limited: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "tessera.cli", "-C", str(limited), "query", ENDLESS],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1, result.stderr
    assert "longer than 1 s" in result.stderr and "Traceback" not in result.stderr


def test_results_past_the_cap_are_refused_for_principals_not_for_trusted_use(limited: Path) -> None:
    with tessera.open(limited) as mesh:
        with pytest.raises(ResultTooLargeError, match=r"more than 10 rows.*LIMIT"):
            mesh.read("sales.orders", as_principal="ana@example.com")
        assert mesh.read("sales.orders", as_principal="ana@example.com", limit=10).num_rows == 10
        assert mesh.read("sales.orders").num_rows == 100  # the local user's own tables: no cap


def test_cancel_interrupts_a_running_query(limited: Path) -> None:
    _limits(limited, timeout=600)
    cancel = threading.Event()
    threading.Timer(0.5, cancel.set).start()
    with tessera.open(limited) as mesh, pytest.raises(QueryCancelledError):
        Reader(mesh.ctx, Caller("ana@example.com"), cancel=cancel).query(ENDLESS)


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT repeat('x', 100000000) FROM range(20)",
        "SELECT lpad('x', 1000000000, 'y')",
        "SELECT range(500000000)",
        "SELECT generate_series(1, 100000000)",
        "SELECT list_resize([1], 100000000)",
        "SELECT repeat('x', n) FROM (SELECT 5 AS n)",  # not a constant: cannot be bounded
        "SELECT [x FOR x IN range(100000000)]",
        # found by an outside review: nesting, DuckDB's method syntax, format widths, bar, space
        "SELECT length(repeat(repeat(r::VARCHAR, 10000), 10000)) FROM range(40) t(r)",
        "SELECT length(r::VARCHAR.repeat(100000000)) FROM range(40) t(r)",
        "SELECT length(r::VARCHAR.repeat(3)) FROM range(40) t(r)",  # a column's values: any length
        "SELECT length(printf('%0100000000d', r)) FROM range(60) t(r)",
        "SELECT length(format('{:>100000000}', r::VARCHAR)) FROM range(40) t(r)",
        "SELECT bar(1, 0, 1, 100000000)",
        "SELECT space(100000000)",
    ],
)
def test_value_generators_of_unbounded_size_are_refused(sql: str) -> None:
    with pytest.raises(AccessDeniedError, match=f"at most {MAX_GENERATED:,} values|another value generator"):
        check_sql(sql)


@pytest.mark.parametrize(
    "sql",
    [
        "WITH RECURSIVE r(n, s) AS (SELECT 0, 'x' UNION ALL SELECT n + 1, s || s FROM r WHERE n < 15) "
        "SELECT max(length(s)) FROM r",
        "SELECT stats(order_id) FROM sales.orders",  # file statistics: rows outside a row filter
        "SELECT version(), current_query()",
    ],
)
def test_recursion_and_file_statistics_are_refused(sql: str) -> None:
    with pytest.raises(AccessDeniedError, match="query refused"):
        check_sql(sql)


def test_small_generators_and_table_functions_still_run() -> None:
    for sql in (
        "SELECT repeat('ab', 3)",
        "SELECT 'x'.repeat(5)",
        "SELECT range(5)",
        "SELECT count(*) FROM range(1000000000)",
        "SELECT printf('%d-%s', 1, 'a')",
        "SELECT bar(1, 0, 10)",
    ):
        check_sql(sql)


def test_limits_in_mesh_yaml_are_validated(mesh_dir: Path) -> None:
    _limits(mesh_dir, memory="lots", threads=0, timeout=-1, surprise=True)
    with pytest.raises(SpecError) as caught, tessera.open(mesh_dir) as mesh:
        mesh.validate()
    text = str(caught.value)
    assert "mesh.yaml" in text and "limits" in text and "surprise" in text


def test_sizes_and_defaults() -> None:
    assert parse_size("2GB") == 2 * 10**9 and parse_size("512MiB") == 512 * 2**20 and parse_size(7) == 7
    with pytest.raises(ValueError):
        parse_size("a lot")
    limits = QueryLimits.from_settings({"memory": "1GiB", "maxRows": 0, "timeout": 5})
    assert limits.memory == 2**30 and limits.max_rows is None and limits.timeout == 5
    assert QueryLimits().uncapped().max_rows is None and QueryLimits().max_rows == 1_000_000


def test_the_remote_sdk_raises_the_servers_errors_by_one_table(limited: Path) -> None:
    """The server and the remote client share ``tessera.errors.HTTP_STATUS``: a timeout and an over-large
    result come back as the same classes they were raised as."""
    from tests.fixtures.serverkit import running_server

    with tessera.open(limited) as mesh:
        token = mesh.access.create_token("ana@example.com")[1]
    with running_server(limited) as url, tessera.open(url, token=token) as remote:  # type: ignore[call-overload]
        with pytest.raises(QueryTimeoutError, match="longer than 1 s"):
            remote.query(ENDLESS)
        with pytest.raises(ResultTooLargeError, match="more than 10 rows"):
            remote.read("sales.orders")


def test_every_error_in_the_status_table_is_found_by_its_name() -> None:
    from tessera import errors

    for kind, status, _ in errors.HTTP_STATUS:
        assert errors.by_name(kind.__name__) is kind and 400 <= status < 600
        if kind is not errors.SpecError:
            assert errors.status_of(kind("x"))[0] == status  # the gate errors need no details to be raised


@pytest.mark.parametrize(
    "limits",
    [
        "{memory: 99999999TB}",
        "{memory: 1B}",
        "{threads: 0}",
        "{threads: 100000}",
        "{timeout: .nan}",
        "{timeout: .inf}",
        "{maxRows: -5}",
    ],
)
def test_unusable_limits_are_one_problem_on_every_path(mesh_dir: Path, limits: str) -> None:
    """Found by an outside review: values the schema let through crashed queries with DuckDB tracebacks, and
    the fast path ran with values validate refused."""
    with tessera.open(mesh_dir) as mesh:
        mesh.publish("sales.orders", orders_table())
    (mesh_dir / "mesh.yaml").write_text((mesh_dir / "mesh.yaml").read_text() + f"limits: {limits}\n")
    for args in (["validate"], ["query", "SELECT count(*) FROM sales.orders"], ["read", "sales.orders"]):
        result = subprocess.run(
            [sys.executable, "-m", "tessera.cli", "-C", str(mesh_dir), *args],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 2, (args, result.stderr)
        assert "mesh.yaml" in result.stderr and "limits" in result.stderr and "Traceback" not in result.stderr
