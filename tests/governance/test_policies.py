"""Policies as code (CEL): loading errors with file:line, fail-closed evaluation, scopes, the built-in library,
the publish gate, `tessera govern`, `tessera policy` and the checks `tessera validate` adds."""

from __future__ import annotations

import json
import textwrap
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from deltalake import DeltaTable

import tessera
from tessera.cli import main
from tessera.errors import PolicyViolationError, SpecError
from tessera.governance import (
    SAMPLE_DOCUMENT,
    PolicySet,
    builtin_policies,
    check_policies,
    complete_document,
    evaluate,
    evaluate_policies,
    load_policies,
    looks_personal,
    product_document,
    read_policy,
    run_cases,
    sample_problems,
)
from tessera.platform.governing.govern import govern, list_policies, policy_problems, policy_set
from tessera.spec import load_settings
from tests.fixtures.meshkit import orders_table

GOOD = """\
name: certified
description: products are certified
rules:
  - id: tagged
    severity: error
    expression: "'certified' in product.tags"
    messageExpression: "'product ' + product.address + ' is not tagged certified'"
"""


def write_policy(root: Path, relative: str, text: str) -> Path:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def one_rule(expression: str, *, name: str = "probe", severity: str = "error") -> str:
    return (
        f"name: {name}\nrules:\n  - id: check\n    severity: {severity}\n"
        f"    expression: {json.dumps(expression)}\n    message: the check failed\n"
    )


def compiled(text: str, file: str = "policies/p.yaml") -> Any:
    policy, problems = read_policy(textwrap.dedent(text), file)
    assert not problems, problems
    assert policy is not None
    return policy


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


# -- loading: every problem with file, line and key ----------------------------------------------------------


def test_loading_errors_name_file_line_and_key() -> None:
    text = """\
name: Bad-Name
rules:
  - id: ok
    severity: fatal
    expresion: "true"
    message: m
  - id: second
    expression: "true"
tests: nope
colour: red
"""
    policy, problems = read_policy(text, "policies/bad.yaml")
    assert policy is None
    found = {(p.line, p.key): p.message for p in problems}
    assert "not lower snake_case" in found[(1, "name")]
    assert "'fatal' is not one of: error, warning, info" in found[(4, "rules[0].severity")]
    assert "did you mean 'expression'?" in found[(5, "rules[0].expresion")]
    assert "missing expression" in found[(3, "rules[0]")]
    assert "needs message or messageExpression" in found[(7, "rules[1]")]
    assert "tests is a list" in found[(9, "tests")]
    assert "unknown key 'colour'" in found[(10, "colour")]
    assert all(p.file == "policies/bad.yaml" for p in problems)
    assert str(problems[0]).startswith("policies/bad.yaml:")


def test_a_cel_syntax_error_gives_the_file_line_and_the_column_in_the_expression() -> None:
    one_line = one_rule("product.name == && true")
    _, problems = read_policy(one_line, "policies/p.yaml")
    [problem] = problems
    assert (problem.file, problem.line, problem.key) == ("policies/p.yaml", 5, "rules[0].expression")
    assert "CEL does not parse (line 1, column 17 of the expression)" in problem.message
    block = """\
name: probe
rules:
  - id: check
    message: m
    expression: |
      product.name == 'orders' &&
        columns.all(c, c.name ==)
"""
    _, problems = read_policy(block, "policies/p.yaml")
    [problem] = problems
    assert problem.line == 7  # the expression's second line, in the file
    assert "line 2, column 27 of the expression" in problem.message  # the `)`
    assert "Syntax error" in problem.message


def test_load_policies_raises_every_problem_at_once(tmp_path: Path) -> None:
    write_policy(tmp_path, "policies/a.yaml", one_rule("product.name =="))
    write_policy(tmp_path, "policies/b.yaml", "name: b\nrules: []\n")
    with pytest.raises(SpecError) as raised:
        load_policies(tmp_path)
    files = {p.file for p in raised.value.problems}
    assert files == {"policies/a.yaml", "policies/b.yaml"}


def test_test_cases_name_unknown_rules_and_a_sibling_file_adds_cases(tmp_path: Path) -> None:
    text = GOOD + "tests:\n  - name: x\n    document: {}\n    expect: [taged]\n"
    _, problems = read_policy(text, "policies/c.yaml")
    [problem] = problems
    assert (problem.line, problem.key) == (11, "tests[0].expect[0]")
    assert "no rule 'taged'" in problem.message
    write_policy(tmp_path, "policies/certified.yaml", GOOD)
    write_policy(
        tmp_path,
        "policies/certified.tests.yaml",
        """\
        - name: untagged
          document: {product: {tags: []}}
          expect: [tagged]
        - name: tagged
          document: {product: {tags: [certified]}}
          expect: []
        """,
    )
    policies = load_policies(tmp_path)
    policy = policies.named("certified")
    assert policy is not None and [c.name for c in policy.cases] == ["untagged", "tagged"]
    assert all(r.passed for r in run_cases(policy))


# -- evaluation fails closed ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expression", "needle"),
    [
        ("product.nme == 'orders'", "no field 'nme'"),
        ("nope(product.name)", "Undefined variable or function: 'nope'"),
        ("product.name + 1 == 'x'", "string + int"),
        ("sla.retention.value > 1", "a field may be null"),
        ("size(columns)", "policy output has the wrong shape: expected bool, got int (3)"),
        ("product.name", "policy output has the wrong shape: expected bool, got string ('orders')"),
    ],
)
def test_an_expression_that_errors_is_a_violation_never_a_pass(expression: str, needle: str) -> None:
    policy = compiled(one_rule(expression))
    document = complete_document({"sla": {"retention": None}})
    [violation] = evaluate_policies([policy], document)
    assert violation.failed and violation.severity == "error"
    assert (violation.policy, violation.rule) == ("probe", "check")
    assert needle in violation.message


def test_a_match_that_errors_counts_and_a_false_match_skips() -> None:
    skipped = compiled(GOOD + "match: \"product.domain == 'finance'\"\n")
    assert evaluate_policies([skipped], complete_document({"product": {"tags": []}})) == []
    broken = compiled(GOOD + 'match: "product.domian == 1"\n')
    [violation] = evaluate_policies([broken], SAMPLE_DOCUMENT)
    assert violation.rule == "match" and violation.failed and "no field 'domian'" in violation.message


def test_message_expression_and_its_failure() -> None:
    policy = compiled(GOOD)
    [violation] = evaluate_policies([policy], complete_document({"product": {"tags": []}}))
    assert violation.message == "product sales.orders is not tagged certified" and not violation.failed
    bad = compiled(GOOD.replace("'product ' + product.address", "'product ' + product.adress"))
    [violation] = evaluate_policies([bad], complete_document({"product": {"tags": []}}))
    assert "messageExpression failed: no field 'adress'" in violation.message


# -- the document --------------------------------------------------------------------------------------------


def _shape(document: dict[str, Any]) -> dict[str, Any]:
    """The keys of each part of a document (and of the first item of its lists of mappings)."""
    out: dict[str, Any] = {}
    for key, value in document.items():
        if isinstance(value, dict):
            out[key] = sorted(value)
        elif isinstance(value, list) and value and isinstance(value[0], dict):
            out[key] = sorted(value[0])
        else:
            out[key] = type(value).__name__
    return out


def test_the_product_document_has_every_field_of_the_sample(mesh_on: Path) -> None:
    with tessera.open(mesh_on) as mesh:
        mesh.apply()
        mesh.publish("sales.orders", orders_table())
        ctx = mesh.ctx
        product = ctx.product("sales.orders")
        document = product_document(product, ctx.spec.domain("sales"), ctx.settings, ctx.catalog)
    expected = _shape(SAMPLE_DOCUMENT)
    expected["grants"] = "list"  # no grant in this mesh
    assert _shape(document) == expected
    assert sorted(document["product"]["members"][0]) == sorted(SAMPLE_DOCUMENT["product"]["members"][0])
    assert document["quality"]["outcome"] == "passed" and document["quality"]["rowCount"] == 100
    assert document["storage"]["scheme"] == "file"
    assert document["storage"]["encryption"] == {"atRest": "filesystem", "kmsKeyId": None}
    email = next(c for c in document["columns"] if c["name"] == "email")
    assert email["looksPersonal"] and email["sensitive"] and email["classification"] == "pii"
    assert document["sla"]["retention"] == {"value": 10, "unit": "y", "element": "orders.ordered_at"}
    assert document["sla"]["freshness"] is None
    assert document["product"]["owner"] == "owner@example.com"
    assert document["mesh"]["publishableStatuses"] == ["active", "draft"]


def test_grants_in_the_document_are_the_live_ones_on_the_product(mesh_on: Path) -> None:
    from sqlalchemy import insert

    from tessera.catalog import tables as t

    now = datetime.now(UTC)
    with tessera.open(mesh_on) as mesh:
        ctx = mesh.ctx
        with ctx.catalog.transaction() as conn:
            conn.execute(
                insert(t.principals),
                [
                    {"name": n, "kind": "user", "created_at": now, "created_by": "test"}
                    for n in ("ana", "bo", "cy", "di", "ed")
                ],
            )
            base = {
                "granted_by": "test",
                "granted_at": now,
                "clearance": False,
                "row_filter": None,
                "expires_at": None,
                "revoked_at": None,
            }
            conn.execute(
                insert(t.grants),
                [
                    {
                        **base,
                        "principal": "ana",
                        "privilege": "read",
                        "scope": "sales.orders",
                        "row_filter": "x",
                    },
                    {**base, "principal": "bo", "privilege": "admin", "scope": "domain:sales"},
                    {
                        **base,
                        "principal": "cy",
                        "privilege": "read",
                        "scope": "mesh",
                        "expires_at": now + timedelta(1),
                    },
                    {
                        **base,
                        "principal": "di",
                        "privilege": "read",
                        "scope": "mesh",
                        "expires_at": now - timedelta(1),
                    },
                    {
                        **base,
                        "principal": "ed",
                        "privilege": "read",
                        "scope": "sales.orders",
                        "revoked_at": now,
                    },
                    {**base, "principal": "ed", "privilege": "read", "scope": "crm.customers"},
                ],
            )
        product = ctx.product("sales.orders")
        document = product_document(product, None, ctx.settings, ctx.catalog)
    grants = {g["principal"]: g for g in document["grants"]}
    assert sorted(grants) == ["ana", "bo", "cy"]
    assert grants["ana"]["rowFilter"] == "x" and grants["bo"]["privilege"] == "admin"
    assert grants["cy"]["expiresAt"] is not None
    assert document["domain"]["owner"] is None  # no Domain given: null, still present


@pytest.mark.parametrize(
    ("name", "personal"),
    [
        ("email", True),
        ("customer_email", True),
        ("phone", True),
        ("full_name", True),
        ("billing_address", True),
        ("date_of_birth", True),
        ("ssn", True),
        ("client_ip", True),
        ("customer_id", False),
        ("mobile_share", False),
        ("shipping_fee", False),
        ("zipper", False),
        ("name", False),
    ],
)
def test_looks_personal(name: str, personal: bool) -> None:
    assert looks_personal(name) is personal


# -- scopes --------------------------------------------------------------------------------------------------


def test_domain_rules_add_to_the_global_ones_for_their_domain_only(mesh_on: Path) -> None:
    write_policy(mesh_on, "domains/sales/policies/certified.yaml", GOOD)
    with tessera.open(mesh_on) as mesh:
        ctx = mesh.ctx
        policies = policy_set(ctx.settings)
        assert policies.named("certified") is not None
        assert policies.named("certified").scope == "domain:sales"  # type: ignore[union-attr]
        sales = product_document(ctx.product("sales.orders"), None, ctx.settings)
        crm = product_document(ctx.product("crm.customers"), None, ctx.settings)
    assert [(v.policy, v.rule) for v in evaluate(policies, sales)] == [("certified", "tagged")]
    assert evaluate(policies, crm) == []


@pytest.mark.parametrize(
    "text",
    [
        one_rule("true", name="gdpr_compliance"),
        one_rule("true", name="company_rules"),
        "name: lenient\ndisable: [gdpr_compliance]\nrules:\n  - {id: r, expression: 'true', message: m}\n",
    ],
    ids=["built-in-name", "global-name", "disable-key"],
)
def test_a_domain_cannot_switch_a_global_policy_off(mesh_dir: Path, text: str) -> None:
    write_policy(mesh_dir, "policies/company_rules.yaml", one_rule("true", name="company_rules"))
    write_policy(mesh_dir, "domains/sales/policies/mine.yaml", text)
    _, problems = check_policies(mesh_dir)
    [problem] = problems
    assert problem.file == "domains/sales/policies/mine.yaml" and problem.line is not None
    assert "domain policies may not switch a global rule off" in problem.message


def test_builtins_switched_off_in_mesh_yaml_and_replaced_by_a_policy_file(mesh_dir: Path) -> None:
    (mesh_dir / "mesh.yaml").write_text("name: testmesh\nstorage: data\n")  # no encryption declared
    with tessera.open(mesh_dir) as mesh:
        report = govern(mesh.ctx)
    assert {(v.policy, v.rule) for v in report.violations} == {("encryption_at_rest", "declared")}
    (mesh_dir / "mesh.yaml").write_text(
        "name: testmesh\nstorage: data\ngovernance:\n  disable: [encryption_at_rest]\n"
    )
    settings = load_settings(mesh_dir)
    assert policy_set(settings).named("encryption_at_rest") is None
    status = {r["name"]: r["status"] for r in list_policies(settings)}
    assert status["encryption_at_rest"] == "disabled in mesh.yaml" and status["ownership"] == "applied"
    with tessera.open(mesh_dir) as mesh:
        assert govern(mesh.ctx).violations == ()
    # a policy file with a built-in's name replaces it (globally)
    write_policy(mesh_dir, "policies/ownership.yaml", one_rule("product.owner == 'nobody'", name="ownership"))
    policies = policy_set(load_settings(mesh_dir))
    replaced = policies.named("ownership")
    assert replaced is not None and not replaced.builtin and replaced.file == "policies/ownership.yaml"
    assert len([p for p in policies.policies if p.name == "ownership"]) == 1
    rows = [r for r in list_policies(load_settings(mesh_dir)) if r["name"] == "ownership"]
    assert [(r["source"], r["status"]) for r in rows] == [
        ("policies/ownership.yaml", "applied"),
        ("built-in", "replaced by policies/ownership.yaml"),
    ]


def test_switching_off_an_unknown_builtin_is_a_problem(mesh_dir: Path) -> None:
    (mesh_dir / "mesh.yaml").write_text("name: t\ngovernance:\n  disable: [gdpr]\n")
    problems = policy_problems(load_settings(mesh_dir))
    [problem] = problems
    assert (problem.file, problem.key) == ("mesh.yaml", "governance.disable[0]")
    assert "no built-in policy 'gdpr'" in problem.message and "gdpr_compliance" in problem.message


# -- the built-in library ------------------------------------------------------------------------------------


def test_every_builtin_has_test_cases_that_pass_and_compiles_on_the_sample() -> None:
    names = {p.name for p in builtin_policies()}
    assert names == {
        "gdpr_compliance",
        "encryption_at_rest",
        "naming_conventions",
        "ownership",
        "sla_declared",
        "publishable_status",
    }
    for policy in builtin_policies():
        results = run_cases(policy)
        assert len(results) >= 3, policy.name
        assert all(r.passed for r in results), [r.as_dict() for r in results if not r.passed]
        assert any(r.expected for r in results), f"{policy.name} has no case that violates it"
    assert sample_problems(PolicySet(builtin_policies())) == []


def test_policy_test_and_list_from_the_cli(mesh_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = cli(capsys, "-C", str(mesh_dir), "policy", "test")
    assert code == 0
    assert "✓ gdpr_compliance: pii without retention" in out
    total = sum(len(p.cases) for p in builtin_policies())
    assert f"{total} of {total} policy test cases passed" in out
    write_policy(
        mesh_dir,
        "policies/certified.yaml",
        GOOD + "tests:\n  - name: wrongly expected\n    document: {product: {tags: [certified]}}\n"
        "    expect: [tagged]\n  - name: unexpected\n    document: {product: {tags: []}}\n    expect: []\n",
    )
    code, out, _ = cli(capsys, "-C", str(mesh_dir), "policy", "test", "certified")
    assert code == 1
    assert "✗ certified: wrongly expected" in out and "- tagged: expected to be violated, but passed" in out
    assert "+ tagged: product sales.orders is not tagged certified" in out
    assert "0 of 2 policy test cases passed" in out
    code, out, _ = cli(capsys, "-C", str(mesh_dir), "policy", "test", "certified", "--json")
    assert code == 1 and json.loads(out)["cases"][1]["unexpected"] == ["tagged"]
    code, _, err = cli(capsys, "-C", str(mesh_dir), "policy", "test", "nosuch")
    assert code == 1 and "no policy 'nosuch'" in err
    code, out, _ = cli(capsys, "-C", str(mesh_dir), "policy", "list", "--json")
    rows = {r["name"]: r for r in json.loads(out)}
    assert rows["certified"]["source"] == "policies/certified.yaml" and rows["certified"]["scope"] == "global"
    assert rows["gdpr_compliance"]["source"] == "built-in"
    assert rows["gdpr_compliance"]["rules"] == ["pii_classified", "retention_declared"]


# -- enforcement: the publish gate ---------------------------------------------------------------------------


def test_publish_refused_with_every_violation_and_nothing_published(mesh_on: Path) -> None:
    with tessera.open(mesh_on) as mesh:
        mesh.apply()
        first = mesh.publish("sales.orders", orders_table())
    write_policy(mesh_on, "policies/certified.yaml", GOOD)
    write_policy(mesh_on, "policies/probe.yaml", one_rule("product.nme == 'x'"))
    write_policy(mesh_on, "policies/soft.yaml", one_rule("false", name="soft", severity="warning"))
    with tessera.open(mesh_on) as mesh:
        with pytest.raises(PolicyViolationError) as refused:
            mesh.publish("sales.orders", orders_table(50))
        message = str(refused.value)
        assert "sales.orders: publish refused by governance (2 policy violations)" in message
        assert "✗ certified.tagged: product sales.orders is not tagged certified" in message
        assert "✗ probe.check: expression failed" in message and "no field 'nme'" in message
        assert "! soft.check: the check failed (warning)" in message
        assert {(v.policy, v.rule) for v in refused.value.violations} == {
            ("certified", "tagged"),
            ("probe", "check"),
            ("soft", "check"),
        }
        assert DeltaTable(first.table_uri).version() == first.delta_version
        assert [v["delta_version"] for v in mesh.ctx.catalog.versions("sales.orders")] == [0]
        [last] = mesh.ctx.catalog.audit_events(limit=1)
        assert (last["action"], last["subject"]) == ("policy.refused", "sales.orders")
        assert last["details"]["error"] == 2 and "certified.tagged" in last["details"]["violations"]
        # a product not published before leaves no trace in the catalog either
        with pytest.raises(PolicyViolationError):
            mesh.publish("crm.customers", pa.table({"customer_id": ["C1"], "segment": ["a"]}))
        assert mesh.ctx.catalog.versions("crm.customers") == []


def test_warnings_do_not_refuse_and_the_decision_is_audited(mesh_on: Path) -> None:
    write_policy(mesh_on, "policies/soft.yaml", one_rule("false", name="soft", severity="warning"))
    with tessera.open(mesh_on) as mesh:
        mesh.publish("sales.orders", orders_table())
        decision = next(e for e in mesh.ctx.catalog.audit_events() if e["action"] == "policy.decision")
    assert decision["details"]["outcome"] == "passed" and decision["details"]["warning"] == 1
    assert decision["details"]["policies"] == len(builtin_policies()) + 1


def test_the_compiled_policies_are_reused_until_a_file_changes(mesh_dir: Path) -> None:
    settings = load_settings(mesh_dir)
    assert policy_set(settings) is policy_set(settings)
    write_policy(mesh_dir, "policies/certified.yaml", GOOD)
    again = policy_set(settings)
    assert again.named("certified") is not None and again is policy_set(settings)
    write_policy(mesh_dir, "policies/certified.yaml", GOOD.replace("certified'", "approved'"))
    assert policy_set(settings) is not again


# -- tessera govern ------------------------------------------------------------------------------------------


def test_govern_report_json_and_exit_codes(mesh_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = cli(capsys, "-C", str(mesh_dir), "govern")
    assert code == 0 and "✓ 3 products, 6 policies: 0 errors" in out
    write_policy(mesh_dir, "policies/soft.yaml", one_rule("false", name="soft", severity="warning"))
    code, out, _ = cli(capsys, "-C", str(mesh_dir), "govern")
    assert code == 0 and "3 warnings" in out and "soft" in out  # warnings are listed, exit 0
    write_policy(mesh_dir, "domains/sales/policies/certified.yaml", GOOD)
    code, out, _ = cli(capsys, "-C", str(mesh_dir), "govern")
    assert code == 1
    assert "✗ 3 products, 8 policies: 2 errors in 2 products, 3 warnings" in out
    assert "certified" in out and "tagged" in out
    code, out, _ = cli(capsys, "-C", str(mesh_dir), "govern", "sales.orders", "--json")
    report = json.loads(out)
    assert code == 1 and report["passed"] is False and report["products"] == 1
    assert report["summary"] == {"error": 1, "warning": 1, "info": 0}
    assert report["violations"][0] == {
        "product": "sales.orders",
        "policy": "certified",
        "rule": "tagged",
        "severity": "error",
        "message": "product sales.orders is not tagged certified",
        "failed": False,
    }
    code, _, err = cli(capsys, "-C", str(mesh_dir), "govern", "sales.nosuch")
    assert code == 1 and "no product 'sales.nosuch'" in err


# -- tessera validate ----------------------------------------------------------------------------------------


def test_validate_catches_a_misspelt_field_or_function(
    mesh_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_policy(mesh_dir, "policies/owners.yaml", one_rule("product.ownr != null", name="owners"))
    write_policy(mesh_dir, "policies/later.yaml", one_rule("product.owner == null && nope(1)", name="later"))
    write_policy(mesh_dir, "policies/shape.yaml", one_rule("size(columns)", name="shape"))
    write_policy(mesh_dir, "domains/sales/policies/syntax.yaml", one_rule("product.name ==", name="syntax"))
    code, _, err = cli(capsys, "-C", str(mesh_dir), "validate")
    assert code == 2
    assert (
        "policies/owners.yaml:5: rules[0].expression: fails on the sample product document: no field 'ownr'"
        in err
    )
    assert "policies/later.yaml:5: rules[0].expression: unknown function 'nope'" in err
    assert "policies/shape.yaml:5: rules[0].expression: policy output has the wrong shape" in err
    assert "domains/sales/policies/syntax.yaml:5: rules[0].expression: CEL does not parse" in err
    assert "Traceback" not in err


# -- encryption at rest: mesh.yaml -> the store's options ----------------------------------------------------


S3_DEFAULTS = {  # what every s3:// mesh gets unless storageOptions says otherwise (mesh-format.md)
    "aws_conditional_put": "etag",
    "connect_timeout": "5s",
    "max_retries": "3",
    "retry_timeout": "30s",
}


@pytest.mark.parametrize(
    ("encryption", "expected"),
    [
        ("{atRest: sse-s3}", {"aws_server_side_encryption": "AES256"}),
        (
            "{atRest: sse-kms, kmsKeyId: 'arn:aws:kms:eu-west-1:1:key/k'}",
            {"aws_server_side_encryption": "aws:kms", "aws_sse_kms_key_id": "arn:aws:kms:eu-west-1:1:key/k"},
        ),
        ("{atRest: filesystem}", {}),
    ],
)
def test_s3_server_side_encryption_reaches_the_store_options(
    tmp_path: Path, encryption: str, expected: dict[str, str]
) -> None:
    (tmp_path / "mesh.yaml").write_text(
        f"name: t\nstorage: s3://lake/mesh\nstorageOptions: {{AWS_REGION: eu-west-1}}\nencryption: {encryption}\n"
    )
    settings = load_settings(tmp_path)
    assert settings.storage_options == {"AWS_REGION": "eu-west-1", **S3_DEFAULTS, **expected}
    assert settings.encryption["atRest"] in ("sse-s3", "sse-kms", "filesystem")


def test_explicit_storage_options_win_and_misplaced_encryption_is_a_problem(tmp_path: Path) -> None:
    (tmp_path / "mesh.yaml").write_text(
        "name: t\nstorage: s3://lake/mesh\nencryption: {atRest: sse-s3}\n"
        "storageOptions: {aws_server_side_encryption: 'aws:kms'}\n"
    )
    assert load_settings(tmp_path).storage_options == {"aws_server_side_encryption": "aws:kms", **S3_DEFAULTS}
    (tmp_path / "mesh.yaml").write_text("name: t\nstorage: data\nencryption: {atRest: sse-s3, kmsKeyId: k}\n")
    with pytest.raises(SpecError) as raised:
        load_settings(tmp_path)
    messages = {p.key: p.message for p in raised.value.problems}
    assert "S3 server-side encryption but storage is" in messages["encryption.atRest"]
    assert "only used with atRest: sse-kms" in messages["encryption.kmsKeyId"]
    (tmp_path / "mesh.yaml").write_text("name: t\nencryption: {atRest: disk}\n")
    with pytest.raises(SpecError, match=r"encryption\.atRest"):
        load_settings(tmp_path)


def test_a_first_product_in_a_new_mesh_is_told_what_it_lacks(tmp_path: Path) -> None:
    from tessera.scaffold import write_empty_mesh
    from tests.fixtures.meshkit import write

    root = tmp_path / "mesh"
    write_empty_mesh(root)
    write(
        root / "domains/sales/domain.yaml",
        {"name": "sales", "description": "Sales", "owner": "s@example.com"},
    )
    contract = {
        "apiVersion": "v3.1.0",
        "kind": "DataContract",
        "id": "sales-orders",
        "version": "1.0.0",
        "status": "active",
        "schema": [
            {
                "name": "orders",
                "properties": [
                    {"name": "order_id", "logicalType": "integer"},
                    {"name": "email", "logicalType": "string"},
                ],
            }
        ],
    }
    product = {
        "apiVersion": "v1.0.0",
        "kind": "DataProduct",
        "id": "sales.orders",
        "name": "orders",
        "domain": "sales",
        "version": "1.0.0",
        "status": "active",
        "outputPorts": [
            {"name": "orders", "type": "tables", "version": "1.0.0", "contractId": "sales-orders"}
        ],
    }
    write(root / "domains/sales/products/orders/contract.odcs.yaml", contract)
    write(root / "domains/sales/products/orders/product.odps.yaml", product)
    with tessera.open(root) as mesh:
        with pytest.raises(PolicyViolationError) as refused:
            mesh.publish("sales.orders", pa.table({"order_id": [1], "email": ["a@example.com"]}))
    message = str(refused.value)
    # `tessera init` declares encryption at rest (filesystem) in mesh.yaml: the other four are the product's
    assert "publish refused by governance (4 policy violations)" in message
    assert "encryption" not in message
    for needle in (
        "columns that look personal have no classification: email",
        "add a member with `role: product owner`",
        "add description.purpose",
        "declares no timeliness SLA",
    ):
        assert needle in message


def test_an_explicit_commit_safety_option_replaces_conditional_put(tmp_path: Path) -> None:
    (tmp_path / "mesh.yaml").write_text(
        "name: t\nstorage: s3://lake/mesh\nstorageOptions: {AWS_S3_ALLOW_UNSAFE_RENAME: 'true', max_retries: '9'}\n"
    )
    options = load_settings(tmp_path).storage_options
    assert "aws_conditional_put" not in options and options["max_retries"] == "9"
    (tmp_path / "mesh.yaml").write_text("name: t\nstorage: data\n")
    assert (
        load_settings(tmp_path).storage_options == {}
    )  # a local folder gets none of the object-store defaults
