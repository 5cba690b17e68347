"""SLOs with error budgets: a synthetic 28-day history (real publishes and a refused one, back-dated to set
times; SLA checks by the real monitor at set times with the table made unreadable and readable again) gives the
attainment and budget figures worked out by hand below; burn-rate alerts fire, once per episode, to a real
webhook receiver; the CLI, the REST API and /metrics show the same figures. On SQLite and PostgreSQL."""

from __future__ import annotations

import json
import uuid
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update

import tessera
from tessera.catalog import tables as t
from tessera.errors import QualityGateError
from tessera.model.contract import Column, Contract, QualityRule, SlaProperty
from tessera.model.product import Product
from tessera.model.slo import SloSettings, parse_objective, parse_window
from tessera.monitoring.burn import RULES, burn_alerts
from tessera.monitoring.slo import Attempt, History, Objective, Publish, Span, evaluate, objectives_for
from tessera.platform.observability import monitor
from tessera.platform.observability.slo import slo
from tests.conftest import PG_URL, _pg_available
from tests.fixtures.meshkit import ORDERS_CONTRACT, make_mesh, orders_table, run_cli, write
from tests.monitoring.test_monitoring import Receiver, receiver  # noqa: F401 - the local webhook receiver fixture

H, D = timedelta(hours=1), timedelta(days=1)
#: "Now" of the history: the top of the current hour, so the history is in the past for every wall-clock
#: reader (the CLI, the server) too, and their 28-day window starts within the hour after S.
NOW = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
S = NOW - 28 * D  # the window's start

# The history. Publishes (each a real publish, then back-dated): a before the window, b..e inside it; one
# refused publish r. The contract: freshness 7 d on orders.ordered_at, availability 99.5%; mesh.yaml: quality
# 75%. The age of the newest data the gate measured at each publish is set too: 12 h for d, none for the others.
PUBLISHES = {
    "a": S - 2 * D,
    "b": S + 4 * D,
    "c": S + 11 * D + 3 * H,
    "d": S + 18 * D,
    "e": S + 25 * D + 2 * H,
}
DATA_AGE_DAYS = {"d": 0.5}
REFUSED = S + 11 * D + 1 * H
# SLA checks (the monitor) with the table unreadable ("away") or readable ("back"): two availability incidents,
# [S - 1d, S + 30m] (30 min of it inside the window) and [S + 6d, S + 6d 1h].
CHECKS = [
    (S - D, "away"),
    (S + 30 * timedelta(minutes=1), "back"),
    (S + 6 * D, "away"),
    (S + 6 * D + H, "back"),
]

# Worked by hand. The window is 28 d = 672 h = 2,419,200 s, all of it measured (the first publish, a, is before S).
# freshness (objective 99%, the default): a version published at p with data from n is stale from n + 7d (but
# not before p) until the next publish.
#   a -> stale from S+5d;  b (S+4d) in time;          b -> stale from S+11d: c at S+11d 3h: 3 h bad
#   c -> stale from S+18d 3h: d (S+18d) in time;      d (data from S+17d 12h) -> stale from S+24d 12h:
#   e at S+25d 2h: 14 h bad;   e -> stale from S+32d 2h, after now.           bad = 17 h = 61,200 s
#   attainment = 1 - 17/672 = 655/672 = 0.974702...; budget = 1% x 672 h = 6.72 h = 24,192 s
#   budget left = 24,192 - 61,200 = -37,008 s (overspent by 10.28 h); remaining = -37,008/24,192 = -1.529761...
FRESHNESS = {"attainment": 655 / 672, "budget": 24192.0, "budget_left": -37008.0, "remaining": -37008 / 24192}
# availability (objective 99.5%, the contract's): bad = 30 min + 1 h = 5,400 s
#   attainment = 1 - 1.5/672 = 0.997767...; budget = 0.5% x 672 h = 3.36 h = 12,096 s
#   budget left = 12,096 - 5,400 = 6,696 s; remaining = 6,696/12,096 = 0.553571...
AVAILABILITY = {
    "attainment": 1 - 1.5 / 672,
    "budget": 12096.0,
    "budget_left": 6696.0,
    "remaining": 6696 / 12096,
}
# quality (objective 75%, mesh.yaml's): attempts in the window: b, r, c, d, e = 5, one refused (r)
#   attainment = 4/5 = 0.8; budget = 25% x 5 = 1.25 attempts; left = 0.25; remaining = 0.25/1.25 = 0.2
QUALITY = {"attainment": 0.8, "budget": 1.25, "budget_left": 0.25, "remaining": 0.2}


def _contract() -> dict[str, Any]:
    doc = json.loads(json.dumps(ORDERS_CONTRACT))
    doc["slaProperties"] += [
        {"property": "freshness", "value": 7, "unit": "d", "element": "orders.ordered_at"},
        {"property": "availability", "value": "99.5%"},
    ]
    return doc


@dataclass
class Built:
    root: Path
    table: Path


def _backend_url(kind: str, tmp: Path) -> Iterator[str]:
    if kind == "sqlite":
        yield f"sqlite:///{tmp}/catalog.db"
        return
    if not _pg_available():
        pytest.skip("PostgreSQL on 127.0.0.1:5432 (database test) is not reachable")
    import psycopg

    schema = f"t_{uuid.uuid4().hex[:12]}"
    dsn = "host=127.0.0.1 port=5432 user=postgres dbname=test"
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield f"{PG_URL}?options=-csearch_path%3D{schema}"
    finally:
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def history(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Built]:
    """The mesh with the history above, built once per backend: publishes through the real publish path,
    back-dated in the catalog to the set times; SLA checks by the real monitor at the set times."""
    tmp = tmp_path_factory.mktemp("slo")
    for url in _backend_url(str(request.param), tmp):
        root = make_mesh(tmp / "mesh", catalog=url)
        write(root / "domains/sales/products/orders/contract.odcs.yaml", _contract())
        with (root / "mesh.yaml").open("a") as out:
            out.write("slo:\n  window: 28d\n  objectives:\n    quality: 75%\n")
        runs: dict[str, str] = {}
        with tessera.open(root) as mesh:
            for name in ("a", "b"):
                runs[name] = mesh.publish("sales.orders", orders_table()).run.run_id
            with pytest.raises(QualityGateError) as refused:
                mesh.publish("sales.orders", orders_table(bad=True))
            assert refused.value.run is not None
            runs["r"] = refused.value.run.run_id
            for name in ("c", "d", "e"):
                runs[name] = mesh.publish("sales.orders", orders_table()).run.run_id
            times = {**PUBLISHES, "r": REFUSED}
            with mesh.ctx.catalog.transaction() as conn:
                for name, run_id in runs.items():
                    conn.execute(
                        update(t.versions)
                        .where(t.versions.c.run_id == run_id)
                        .values(published_at=times[name])
                    )
                    conn.execute(
                        update(t.quality_checks)
                        .where(
                            t.quality_checks.c.run_id == run_id, t.quality_checks.c.name == "sla.freshness"
                        )
                        .values(measured=DATA_AGE_DAYS.get(name, 0.0))
                    )
                    conn.execute(
                        update(t.quality_runs)
                        .where(t.quality_runs.c.run_id == run_id)
                        .values(started_at=times[name], finished_at=times[name])
                    )
            table = root / "data/sales/orders/v1"
            assert table.is_dir()
            for moment, state in CHECKS:
                if state == "away":
                    table.rename(table.with_name("v1.away"))
                else:
                    table.with_name("v1.away").rename(table)
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")  # no webhooks configured yet
                    monitor.check(mesh.ctx, ["sales.orders"], now=moment)
        yield Built(root, table)


def _figures(report: Any) -> dict[str, float]:
    return {
        "attainment": report.attainment,
        "budget": report.budget,
        "budget_left": report.budget_left,
        "remaining": report.budget_remaining,
    }


def test_the_28_day_history_gives_the_figures_worked_by_hand(history: Built) -> None:
    with tessera.open(history.root) as mesh:
        incidents = mesh.ctx.catalog.incidents(address="sales.orders")
        outages = [
            i for i in incidents if i["kind"] == "availability"
        ]  # the monitor's freshness reads the data
        assert sorted((i["kind"], i["opened_at"], i["resolved_at"]) for i in outages) == [
            ("availability", S - D, S + 30 * timedelta(minutes=1)),
            ("availability", S + 6 * D, S + 6 * D + H),
        ]
        summary = slo(mesh.ctx, "sales.orders", now=NOW, series=True)
    reports = {r.slo: r for r in summary.reports}
    assert set(reports) == {"freshness", "availability", "quality"}
    for name, expected in (("freshness", FRESHNESS), ("availability", AVAILABILITY), ("quality", QUALITY)):
        assert _figures(reports[name]) == pytest.approx(expected, abs=1e-9), name
    assert reports["freshness"].objective.source == "default"
    assert reports["availability"].objective.source == "contract"
    assert reports["quality"].objective.source == "mesh.yaml"
    assert reports["freshness"].measured == 28 * 86400 and reports["quality"].measured == 5
    # burn rate over the window = error rate / allowed: freshness (17/672)/0.01 = 2.53, quality 0.2/0.25 = 0.8
    assert reports["freshness"].burn_rate == pytest.approx(17 / 672 / 0.01)
    assert reports["quality"].burn_rates["28d"] == pytest.approx(0.8)
    # over the last 3 days (S+25d..now) freshness was bad 2 h of 72: (2/72)/0.01 = 2.78; the last hour: none
    assert reports["freshness"].burn_rates["3d"] == pytest.approx(2 / 72 / 0.01)
    assert reports["freshness"].burn_rates["1h"] == 0

    assert summary.series is not None
    fresh = summary.series[("sales.orders", "freshness")]
    assert len(fresh) == 28 and fresh[0].start == S and fresh[-1].end == NOW
    # day 11 (S+11d..S+12d): 3 h stale -> 1 - 3/24 = 0.875; budget left after it: 1 - 3 h/6.72 h
    assert fresh[11].attainment == pytest.approx(0.875)
    assert fresh[11].budget_remaining == pytest.approx(1 - 3 / 6.72)
    assert fresh[10].budget_remaining == 1.0 and fresh[-1].budget_remaining == pytest.approx(-37008 / 24192)
    assert fresh[24].attainment == pytest.approx(0.5)  # stale from S+24d 12h
    avail = summary.series[("sales.orders", "availability")]
    assert avail[0].attainment == pytest.approx(1 - 0.5 / 24)  # day 0: the 30 min of the first incident
    quality = summary.series[("sales.orders", "quality")]
    assert quality[11].attainment == 0.5  # r refused, c let through
    assert quality[11].budget_remaining == pytest.approx(0.2) and quality[3].budget_remaining == 1.0
    assert quality[0].attainment is None  # no attempt that day


def test_a_shorter_window_is_judged_over_its_own_span(history: Built) -> None:
    with tessera.open(history.root) as mesh:
        [fresh, avail, quality] = slo(mesh.ctx, "sales.orders", window="7d", now=NOW).reports
    # S+21d..now: stale 14 h (S+24d 12h..S+25d 2h) of 168 h; budget 1.68 h; attempts: e alone
    assert fresh.attainment == pytest.approx(1 - 14 / 168)
    assert fresh.budget_remaining == pytest.approx(1 - 14 / 1.68)
    assert (avail.attainment, quality.attainment, quality.measured) == (1.0, 1.0, 1.0)


def test_burn_alerts_fire_at_set_times_and_each_episode_is_announced_once(
    history: Built,
    receiver: Receiver,  # noqa: F811
) -> None:
    root = history.root
    mesh_yaml = (root / "mesh.yaml").read_text()
    channel = f"notifications:\n  channels:\n    - {{name: hooks, type: webhook, url: '{receiver.url}', events: [slo.burn]}}\n"
    (root / "mesh.yaml").write_text(mesh_yaml + channel)
    try:
        with tessera.open(root) as mesh:
            from tessera.platform.observability.slo import burn_alerts as firing

            assert firing(mesh.ctx, NOW) == []  # fresh, available, the newest attempt went through
            # S+25d 1h: stale since S+24d 12h: 1 h window burn (1/1)/0.01 = 100 >= 13.44, 5 min alike: a page;
            # 3 d window (13/72)/0.01 = 18.1 >= 0.93 with 6 h at 100: a ticket. Both since S+24d 12h.
            stale = S + 25 * D + H
            alerts = firing(mesh.ctx, stale)
            assert [(a.slo, a.severity, a.since) for a in alerts] == [
                ("freshness", "page", S + 24 * D + 12 * H),
                ("freshness", "ticket", S + 24 * D + 12 * H),
            ]
            assert alerts[0].long_burn == pytest.approx(100) and alerts[0].threshold == pytest.approx(13.44)
            assert alerts[1].long_burn == pytest.approx(13 / 72 / 0.01)
            # S+11d 1h30m: r refused 30 min ago; 1 h: 1 attempt, refused: 1/0.25 = 4 < 13.44 (no page);
            # 3 d: r alone: 4 >= 0.93, 6 h the same: a ticket since r
            [ticket] = [
                a for a in firing(mesh.ctx, REFUSED + 30 * timedelta(minutes=1)) if a.slo == "quality"
            ]
            assert (ticket.slo, ticket.severity, ticket.since, ticket.long_burn) == (
                "quality",
                "ticket",
                REFUSED,
                4.0,
            )
            # S+11d 3h30m, c went through 30 min ago: the pages end (their short windows are good); the
            # tickets stay: freshness 3 d (3/72)/0.01 = 4.2 with 6 h at 50; quality 1 of 2 refused, 2x
            later = firing(mesh.ctx, S + 11 * D + 3.5 * H)
            assert [(a.slo, a.severity) for a in later] == [("freshness", "ticket"), ("quality", "ticket")]
            monitor.check(mesh.ctx, ["sales.orders"], now=stale)
            monitor.check(mesh.ctx, ["sales.orders"], now=stale + 20 * timedelta(minutes=1))  # same episode
        sent = [json.loads(body) for _, _, body in receiver.requests]
        burns = [{**e["facts"], "event": e["event"]} for e in sent if e["event"] == "slo.burn"]
        assert [(e["product"], e["slo"], e["severity"], e["windows"]) for e in burns] == [
            ("sales.orders", "freshness", "page", ["1h", "5m"]),
            ("sales.orders", "freshness", "ticket", ["3d", "6h"]),
        ]
        assert burns[0]["key"] == f"slo.burn:sales.orders:freshness:page:{(S + 24 * D + 12 * H).isoformat()}"
        assert "burns its error budget 100.0x" in burns[0]["message"]
        with tessera.open(root) as mesh:
            audit = [e for e in mesh.ctx.catalog.audit_events() if e["action"] == "slo.burn"]
        # the fixture's checks announced (with no webhook configured) the two availability episodes
        assert sorted(
            (e["details"]["slo"], e["details"]["severity"], e["details"]["since"]) for e in audit
        ) == [
            ("availability", "page", (S - D).isoformat()),
            ("availability", "page", (S + 6 * D).isoformat()),
            ("availability", "ticket", (S - D).isoformat()),
            ("availability", "ticket", (S + 6 * D).isoformat()),
            ("freshness", "page", (S + 24 * D + 12 * H).isoformat()),
            ("freshness", "ticket", (S + 24 * D + 12 * H).isoformat()),
        ]
    finally:
        (root / "mesh.yaml").write_text(mesh_yaml)


def test_cli_prints_the_table_and_json(history: Built) -> None:
    result = run_cli("-C", str(history.root), "slo", "sales.orders", "--json")
    assert result.returncode == 0, result.stderr
    found = {s["slo"]: s for s in json.loads(result.stdout)["slos"]}
    # the CLI's window ends at the wall clock, within the hour after NOW: freshness and quality are unchanged
    assert found["freshness"]["attainment"] == pytest.approx(FRESHNESS["attainment"])
    assert found["freshness"]["budget_remaining"] == pytest.approx(FRESHNESS["remaining"])
    assert found["quality"]["budget_left"] == pytest.approx(0.25)
    assert found["quality"]["budget_consumed"] == pytest.approx(0.8) and found["quality"]["budget"] == 1.25
    table = run_cli("-C", str(history.root), "slo", env={"COLUMNS": "200"})
    assert table.returncode == 0, table.stderr
    line = next(x for x in table.stdout.splitlines() if "freshness" in x)
    for cell in ("sales.orders", "99.00%", "97.47%", "-153.0% (-10.3h)", "2.53"):
        assert cell in line, line
    assert "80.00%" in next(x for x in table.stdout.splitlines() if "quality" in x)
    bad = run_cli("-C", str(history.root), "slo", "--window", "5 fortnights")
    assert bad.returncode == 2 and "is not a window" in bad.stderr and "Traceback" not in bad.stderr
    missing = run_cli("-C", str(history.root), "slo", "sales.nothing")
    assert missing.returncode == 1 and "no product 'sales.nothing'" in missing.stderr


def test_rest_and_metrics_show_the_figures(history: Built) -> None:
    from prometheus_client.parser import text_string_to_metric_families

    from tessera.server import create_app

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from fastapi.testclient import TestClient

    with TestClient(create_app(history.root), base_url="http://127.0.0.1") as client:
        answer = client.get("/api/v1/products/sales/orders/slo", params={"window": "28d"})
        assert answer.status_code == 200, answer.text
        found = {s["slo"]: s for s in answer.json()["slos"]}
        assert found["quality"]["attainment"] == 0.8 and found["quality"]["objective"] == 0.75
        series = found["freshness"]["series"]
        assert len(series) == 28 and set(series[0]) == {"start", "end", "attainment", "budget_remaining"}
        assert series[-1]["budget_remaining"] == pytest.approx(found["freshness"]["budget_remaining"])
        every = client.get("/api/v1/slo").json()
        assert {(s["product"], s["slo"]) for s in every["slos"]} >= {("sales.orders", "availability")}
        assert "series" not in every["slos"][0]
        assert client.get("/api/v1/slo", params={"window": "soon"}).status_code == 422
        assert client.get("/api/v1/products/sales/nothing/slo").status_code == 404
        text = client.get("/metrics").text
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }
    key = (("product", "sales.orders"), ("slo", "freshness"))
    assert samples[("tessera_slo_attainment", key)] == pytest.approx(FRESHNESS["attainment"])
    assert samples[("tessera_slo_error_budget_remaining", key)] == pytest.approx(FRESHNESS["remaining"])
    assert samples[("tessera_slo_burn_rate", (*key, ("window", "28d")))] == pytest.approx(17 / 672 / 0.01)
    quality = (("product", "sales.orders"), ("slo", "quality"))
    assert samples[("tessera_slo_error_budget_remaining", quality)] == pytest.approx(0.2)
    assert samples[("tessera_slo_objective", quality)] == 0.75


def test_the_remote_sdk_reads_the_same_figures(history: Built) -> None:
    from tests.fixtures.serverkit import running_server

    with running_server(history.root) as url, tessera.open(url) as remote:
        found = {s["slo"]: s for s in remote.slo("sales.orders", window="28d").as_dict()["slos"]}
        assert (
            found["quality"]["budget_left"] == pytest.approx(0.25) and len(found["quality"]["series"]) == 28
        )
        assert {s["product"] for s in remote.slo().as_dict()["slos"]} == {"sales.orders"}


def test_the_whole_mesh_is_read_in_a_few_queries_then_from_the_cache(history: Built) -> None:
    from sqlalchemy import event

    statements: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            statements.append(statement)

    with tessera.open(history.root) as mesh:
        assert mesh.ctx.spec.products  # the mesh files are read before counting
        event.listen(mesh.ctx.catalog.engine, "before_cursor_execute", count)
        first = slo(mesh.ctx, now=NOW - 200 * D)  # a window older than any other test reads: read
        assert len(statements) == 4  # publishes before and in the window, attempts, outages: not per product
        statements.clear()
        again = slo(mesh.ctx, now=NOW)  # the same catalog generation, a later window: from the cache
        assert statements == []
    assert len(first.reports) == len(again.reports) == 3


# -- the pure parts --------------------------------------------------------------------------------------------


def _product(*sla: SlaProperty, rules: bool = False) -> Product:
    quality = (QualityRule("library", metric="rowCount"),) if rules else ()
    contract = Contract("c", "1.0.0", "active", "t", (Column("id", "integer"),), quality=quality, sla=sla)
    return Product("d", "p", "d-p", "1.0.0", "active", contract)


@pytest.mark.parametrize(
    ("given", "ratio"),
    [("99.5%", 0.995), (99.5, 0.995), (0.995, 0.995), ("99.9 %", 0.999), ("0.9", 0.9), ("0.5%", 0.005)],
)
def test_objectives_read_as_percentages_or_ratios(given: Any, ratio: float) -> None:
    assert parse_objective(given) == pytest.approx(ratio)


@pytest.mark.parametrize("given", ["100%", "150%", 100, 150, 1, 0, "-1%", "most", True, None, float("nan")])
def test_objectives_that_leave_no_budget_or_are_not_numbers_are_refused(given: Any) -> None:
    with pytest.raises(ValueError):
        parse_objective(given)


def test_windows() -> None:
    assert parse_window("28d") == 28 * D and parse_window("4w") == 28 * D and parse_window("36h") == 36 * H
    for bad in ("28", "5x", "30m", "400d", 28, "99999999999d", "9" * 400 + "w"):  # huge: no OverflowError
        with pytest.raises(ValueError):
            parse_window(bad)


def test_mesh_yaml_slo_problems_carry_their_line(tmp_path: Path) -> None:
    root = make_mesh(tmp_path / "mesh")
    with (root / "mesh.yaml").open("a") as out:
        out.write("slo:\n  window: 5 fortnights\n  objectives:\n    freshness: 100%\n    speed: 99%\n")
    result = run_cli("-C", str(root), "validate")
    assert result.returncode == 2
    for needle in (
        "mesh.yaml:6: slo.window: '5 fortnights' is not a window",
        "mesh.yaml:8: slo.objectives.freshness: '100%' leaves no error budget",
        "mesh.yaml:9: slo.objectives.speed: unknown key",
    ):
        assert needle in result.stderr, result.stderr


def test_which_slos_a_contract_declares() -> None:
    settings = SloSettings.from_mapping({"objectives": {"availability": "99.9%"}})
    assert objectives_for(_product(), settings) == ()
    found = objectives_for(
        _product(SlaProperty("latency", 2, "h"), SlaProperty("availability", "lots"), rules=True), settings
    )
    assert [(o.slo, o.target, o.source, o.limit) for o in found] == [
        ("freshness", 0.99, "default", 2 * H),
        ("availability", 0.999, "mesh.yaml", None),
        ("quality", 0.95, "default", None),
    ]
    assert found[1].note is not None and "not an objective" in found[1].note
    [odd] = objectives_for(_product(SlaProperty("freshness", 2, "fortnights")), settings)
    assert odd.note is not None and odd.note.startswith("not judged")


T0 = datetime(2026, 1, 1, tzinfo=UTC)
FRESH = Objective("freshness", 0.99, "default", limit=D)


def test_time_before_the_first_publish_is_not_measured() -> None:
    # one publish 2 days before T0, a freshness limit of 1 day: stale for the last 24 h of the 48 measured
    history = History("d.p", T0 - 2 * D, (Publish(T0 - 2 * D),), ())
    report = evaluate(history, FRESH, window=28 * D, now=T0 - D - 6 * H)
    assert report.measured == 18 * 3600 and report.bad == 0
    report = evaluate(history, FRESH, window=28 * D, now=T0)
    assert report.attainment == pytest.approx(1 - 24 / 48)
    never = evaluate(History("d.p", None), FRESH, window=28 * D, now=T0)
    assert (never.attainment, never.budget_remaining, never.burn_rate) == (None, 1.0, 0.0)


def test_an_ongoing_outage_counts_to_now_and_a_flapping_one_is_one_episode() -> None:
    avail = Objective("availability", 0.99, "contract")
    outages = (
        Span(T0 - 50 * timedelta(minutes=1), T0 - 40 * timedelta(minutes=1)),
        Span(T0 - 38 * timedelta(minutes=1)),
    )
    history = History("d.p", T0 - 30 * D, (Publish(T0 - 30 * D),), (), outages)
    report = evaluate(history, avail, window=28 * D, now=T0)
    assert report.bad == 48 * 60
    [page, ticket] = burn_alerts(history, avail, window=28 * D, now=T0)
    assert page.severity == "page" and page.since == T0 - 50 * timedelta(minutes=1)  # 2 min gap < 5 min
    assert page.key == ticket.key.replace(":ticket:", ":page:")


def test_alert_rules_scale_with_the_window() -> None:
    thresholds = [round(rule.threshold(30 * D), 6) for rule in RULES]
    assert thresholds == [14.4, 6.0, 1.0]  # the SRE workbook's, on its 30-day window
    assert [round(rule.threshold(28 * D), 4) for rule in RULES] == [13.44, 5.6, 0.9333]
    # a 2-day window drops the 3-day rule
    history = History("d.p", T0 - 10 * D, (Publish(T0 - 10 * D),), ())
    assert {a.severity for a in burn_alerts(history, FRESH, window=2 * D, now=T0)} == {"page"}


def test_a_refused_publish_keeps_the_quality_alert_until_one_goes_through() -> None:
    quality = Objective("quality", 0.95, "default")
    attempts = (Attempt(T0 - 3 * H, True), Attempt(T0 - 40 * timedelta(minutes=1), False))
    history = History("d.p", T0 - 3 * H, (Publish(T0 - 3 * H),), attempts)
    [page, _ticket] = burn_alerts(history, quality, window=28 * D, now=T0)  # 1 h: 1/1 refused: 20x
    assert page.short_burn == page.long_burn == pytest.approx(20.0) and page.since == T0 - 40 * timedelta(
        minutes=1
    )
    fixed = History(
        "d.p", T0 - 3 * H, (Publish(T0 - 3 * H),), (*attempts, Attempt(T0 - 20 * timedelta(minutes=1), True))
    )
    # the page ends (30 min: the good attempt alone); the ticket stays (6 h: 1 refused of 3, 6.7x)
    assert [a.severity for a in burn_alerts(fixed, quality, window=28 * D, now=T0)] == ["ticket"]


def test_a_fresh_republish_ends_the_episode_and_its_future_staleness_is_none() -> None:
    # stale from its first publish (data 2 days old, limit 1 day) until a fresh publish 30 min later
    publishes = (Publish(T0 - H, T0 - H - 2 * D), Publish(T0 - 30 * timedelta(minutes=1)))
    history = History("d.p", T0 - H, publishes, ())
    report = evaluate(history, FRESH, window=28 * D, now=T0)
    assert (report.measured, report.bad) == (3600, 1800)
    alerts = burn_alerts(history, FRESH, window=28 * D, now=T0)  # 1 h: 50x, but 5 min: fresh: no page
    assert [(a.severity, a.since) for a in alerts] == [("ticket", T0 - H)]


@pytest.mark.parametrize("value", [float("inf"), float("nan"), 1e15, 0, -1])
def test_a_freshness_limit_out_of_range_is_a_note_not_a_crash(tmp_path: Path, value: float) -> None:
    """A contract's freshness of infinity, NaN, 10^15 days, 0 or less: not judged, with a note, and the
    catalog's pages, /metrics and the SLO answers still work (timedelta raised, a 500 on every page)."""
    from tessera.monitoring.status import freshness_limit
    from tessera.server import create_app

    root = make_mesh(tmp_path / "mesh")
    with tessera.open(root) as mesh:
        mesh.apply()
        mesh.publish("sales.orders", orders_table())
    contract = json.loads(json.dumps(ORDERS_CONTRACT))
    contract["slaProperties"][1] = {
        "property": "freshness",
        "value": value,
        "unit": "d",
        "element": "orders.ordered_at",
    }
    write(root / "domains/sales/products/orders/contract.odcs.yaml", contract)
    with tessera.open(root) as mesh:
        limit, _, problem = freshness_limit(mesh.product("sales.orders"))
        assert limit is None and problem is not None and "above 0" in problem
        [fresh] = [r for r in slo(mesh.ctx, "sales.orders").reports if r.objective.slo == "freshness"]
        assert "not judged" in (fresh.objective.note or "")
    for args in (["slo"], ["status"]):
        result = run_cli("-C", str(root), *args)
        assert result.returncode == 0 and "Traceback" not in result.stderr
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # starlette's TestClient announces its move on import
        from fastapi.testclient import TestClient

        with TestClient(create_app(root), base_url="http://127.0.0.1") as client:
            for path in ("/", "/products/sales/orders", "/metrics", "/api/v1/slo"):
                assert client.get(path).status_code == 200, path
