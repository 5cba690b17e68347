"""Contract compatibility: which changes break consumers, and what version the gate asks for."""

from __future__ import annotations

from typing import Any

import pytest

from tessera.model.compat import Change, diff_contracts, is_breaking, render_changes, required_bump
from tessera.model.contract import Column, Contract, QualityRule, SlaProperty, Threshold

# --- helpers ------------------------------------------------------------------------------------------------


def col(name: str, logical: Any = "string", **kwargs: Any) -> Column:
    return Column(name=name, logical_type=logical, **kwargs)


def contract(*columns: Column, version: str = "1.0.0", **kwargs: Any) -> Contract:
    kwargs.setdefault("id", "sales-orders")
    return Contract(version=version, status="active", table="orders", columns=columns, **kwargs)


BASE = (col("order_id", "integer", physical_type="bigint", required=True, primary_key=True), col("note"))


def diff(old: Column, new: Column) -> tuple[Change, ...]:
    """Changes between two versions of one column, set among the same neighbours."""
    return diff_contracts(contract(*BASE, old), contract(*BASE, new))


def one(changes: tuple[Change, ...]) -> Change:
    assert len(changes) == 1, changes
    return changes[0]


# --- columns ------------------------------------------------------------------------------------------------


def test_identical_contracts_have_no_changes() -> None:
    c = contract(
        *BASE, col("amount", "number", physical_type="decimal(10,2)", quality=(QualityRule("library"),))
    )
    assert diff_contracts(c, c) == ()
    assert not is_breaking(())


def test_column_removed_is_breaking() -> None:
    change = one(diff_contracts(contract(*BASE, col("email")), contract(*BASE)))
    assert (change.kind, change.column, change.what) == ("breaking", "email", "column-removed")
    assert "'email' removed" in change.message


def test_column_renamed_in_place_with_same_type() -> None:
    change = one(diff(col("email"), col("email_address")))
    assert (change.kind, change.what) == ("breaking", "column-renamed")
    assert change.message == "column 'email' renamed to 'email_address'"


def test_renamed_column_reports_its_other_differences() -> None:
    changes = diff(col("email"), col("email_address", classification="pii"))
    assert [(c.what, c.column) for c in changes] == [
        ("column-renamed", "email"),
        ("classification-changed", "email_address"),
    ]


def test_removed_and_added_of_another_type_is_not_a_rename() -> None:
    changes = diff(col("email"), col("score", "integer"))
    assert [(c.what, c.column, c.kind) for c in changes] == [
        ("column-removed", "email", "breaking"),
        ("column-added", "score", "non-breaking"),
    ]


@pytest.mark.parametrize("required", [False, True])
def test_column_added_is_not_breaking_even_when_required(required: bool) -> None:
    change = one(diff_contracts(contract(*BASE), contract(*BASE, col("channel", required=required))))
    assert (change.kind, change.column, change.what) == ("non-breaking", "channel", "column-added")
    assert ("required" if required else "optional") in change.message


def test_logical_type_changed_is_breaking() -> None:
    change = one(diff(col("code"), col("code", "integer")))
    assert (change.kind, change.what) == ("breaking", "type-changed")
    assert change.message == "column 'code' type changed from string to integer (64-bit)"


@pytest.mark.parametrize(
    ("old", "new", "what"),
    [
        ("int", "bigint", "type-widened"),
        ("tinyint", "smallint", "type-widened"),
        ("int32", "int64", "type-widened"),
        ("bigint", "int", "type-narrowed"),
        ("int64", "int16", "type-narrowed"),
        (None, "int", "type-narrowed"),  # no physicalType is 64-bit
        ("int", None, "type-widened"),
    ],
)
def test_integer_widths(old: str | None, new: str | None, what: str) -> None:
    change = one(diff(col("qty", "integer", physical_type=old), col("qty", "integer", physical_type=new)))
    assert change.what == what
    assert change.kind == ("breaking" if what == "type-narrowed" else "non-breaking")


def test_integer_without_physical_type_equals_bigint() -> None:
    assert diff(col("qty", "integer"), col("qty", "integer", physical_type="BIGINT")) == ()


@pytest.mark.parametrize(
    ("old", "new", "what"),
    [
        ("decimal(10,2)", "decimal(8,2)", "type-narrowed"),  # precision down
        ("decimal(10,2)", "decimal(10,1)", "type-narrowed"),  # scale down
        ("decimal(10,2)", "decimal(10,4)", "type-narrowed"),  # fewer integer digits
        ("decimal(10,2)", "decimal(12,2)", "type-widened"),
        ("decimal(10,2)", "numeric(12, 4)", "type-widened"),
        ("decimal(10,2)", "double", "type-changed"),  # exact → floating point
        ("float", "double", "type-widened"),
        ("double", "float", "type-narrowed"),
    ],
)
def test_number_precision_and_scale(old: str, new: str, what: str) -> None:
    change = one(diff(col("amount", "number", physical_type=old), col("amount", "number", physical_type=new)))
    assert change.what == what
    assert change.kind == ("non-breaking" if what == "type-widened" else "breaking")


def test_decimal_narrowing_message() -> None:
    change = one(
        diff(
            col("amount", "number", physical_type="decimal(10,2)"),
            col("amount", "number", physical_type="decimal(8,2)"),
        )
    )
    assert change.message == "column 'amount' type changed from decimal(10,2) to decimal(8,2) (narrowed)"


def test_precision_and_scale_fields_win_over_physical_type() -> None:
    declared = col("amount", "number", physical_type="decimal", precision=10, scale=2)
    assert diff(declared, col("amount", "number", physical_type="decimal(10,2)")) == ()
    change = one(diff(declared, col("amount", "number", physical_type="decimal", precision=9, scale=2)))
    assert change.what == "type-narrowed"
    assert "decimal(10,2) to decimal(9,2)" in change.message


@pytest.mark.parametrize(
    ("old", "new", "what"),
    [
        (col("n", "integer"), col("n", "number"), "type-widened"),
        (
            col("n", "integer", physical_type="int"),
            col("n", "number", physical_type="decimal(12,2)"),
            "type-widened",
        ),
        (col("n", "integer"), col("n", "number", physical_type="decimal(10,2)"), "type-narrowed"),
        (col("n", "number"), col("n", "integer"), "type-narrowed"),
        (col("n", "date"), col("n", "timestamp"), "type-widened"),
        (col("n", "timestamp"), col("n", "date"), "type-narrowed"),
        (col("n", "boolean"), col("n", "string"), "type-changed"),
    ],
)
def test_type_family_changes(old: Column, new: Column, what: str) -> None:
    change = one(diff(old, new))
    assert change.what == what
    assert change.kind == ("non-breaking" if what == "type-widened" else "breaking")


@pytest.mark.parametrize(
    ("old", "new", "what"),
    [
        ("varchar(18)", "varchar(10)", "type-narrowed"),
        ("varchar(18)", "VARCHAR(30)", "type-widened"),
        ("varchar(18)", None, "type-widened"),
        ("string", "char(2)", "type-narrowed"),
    ],
)
def test_string_length(old: str | None, new: str | None, what: str) -> None:
    change = one(diff(col("sku", physical_type=old), col("sku", physical_type=new)))
    assert change.what == what
    assert f"'sku' type changed from {old or 'string'} to {new or 'string'}" in change.message


def test_nested_physical_type_changed_only_when_both_declared() -> None:
    assert diff(col("items", "array"), col("items", "array", physical_type="array<string>")) == ()
    old, new = (
        col("items", "array", physical_type="array<string>"),
        col("items", "array", physical_type="array<int>"),
    )
    assert one(diff(old, new)).what == "type-changed"


def test_nullable_to_required_is_breaking() -> None:
    change = one(diff(col("email"), col("email", required=True)))
    assert (change.kind, change.what) == ("breaking", "became-required")


def test_required_to_nullable_is_breaking_too() -> None:
    change = one(diff(col("email", required=True), col("email")))
    assert (change.kind, change.what) == ("breaking", "became-optional")
    assert "nulls" in change.message


def test_enum_value_removed_is_breaking_and_added_is_not() -> None:
    changes = diff(
        col("status", enum=("open", "paid", "void")), col("status", enum=("open", "paid", "refunded"))
    )
    assert [(c.what, c.kind) for c in changes] == [
        ("enum-value-removed", "breaking"),
        ("enum-value-added", "non-breaking"),
    ]
    assert changes[0].message == "column 'status' enum values removed: 'void'"
    assert changes[1].message == "column 'status' enum values added: 'refunded'"


TIGHTENINGS = [
    pytest.param({}, {"pattern": "^[A-Z]+$"}, id="pattern-added"),
    pytest.param({"pattern": "^[A-Z]+$"}, {"pattern": "^[A-Z]{3}$"}, id="pattern-changed"),
    pytest.param({"min_length": 1}, {"min_length": 3}, id="minLength-up"),
    pytest.param({"max_length": 30}, {"max_length": 20}, id="maxLength-down"),
    pytest.param({}, {"max_length": 20}, id="maxLength-added"),
    pytest.param({"minimum": 0}, {"minimum": 1}, id="minimum-up"),
    pytest.param({"maximum": 100}, {"maximum": 99.5}, id="maximum-down"),
    pytest.param({"minimum": 0}, {"exclusive_minimum": 0}, id="exclusive-lower-bound"),
    pytest.param({"exclusive_maximum": 10}, {"exclusive_maximum": 5}, id="exclusive-maximum-down"),
    pytest.param({}, {"enum": ("a", "b")}, id="enum-added"),
]


@pytest.mark.parametrize(("old", "new"), TIGHTENINGS)
def test_constraint_tightened_is_breaking(old: dict[str, Any], new: dict[str, Any]) -> None:
    change = one(diff(col("code", **old), col("code", **new)))
    assert (change.kind, change.what) == ("breaking", "constraint-tightened")
    assert "'code'" in change.message


@pytest.mark.parametrize(("old", "new"), [p for p in TIGHTENINGS if p.id != "pattern-changed"])
def test_constraint_loosened_is_not_breaking(old: dict[str, Any], new: dict[str, Any]) -> None:
    change = one(diff(col("code", **new), col("code", **old)))
    assert (change.kind, change.what) == ("non-breaking", "constraint-loosened")


def test_bound_messages_show_old_and_new() -> None:
    change = one(diff(col("amount", "number", minimum=0), col("amount", "number", exclusive_minimum=0)))
    assert change.message == "column 'amount' minimum tightened from >= 0 to > 0"
    change = one(diff(col("code", max_length=30), col("code", max_length=20)))
    assert change.message == "column 'code' maxLength tightened from 30 to 20"


def test_unique_added_is_breaking_and_removed_is_not() -> None:
    added = one(diff(col("email"), col("email", unique=True)))
    assert (added.kind, added.what) == ("breaking", "unique-added")
    removed = one(diff(col("email", unique=True), col("email")))
    assert (removed.kind, removed.what) == ("non-breaking", "unique-removed")


def test_primary_key_changed_is_breaking() -> None:
    old = contract(col("order_id", "integer", primary_key=True), col("line", "integer"))
    new = contract(
        col("order_id", "integer", primary_key=True, primary_key_position=1),
        col("line", "integer", primary_key=True, primary_key_position=2),
    )
    change = one(diff_contracts(old, new))
    assert (change.kind, change.column, change.what) == ("breaking", None, "primary-key-changed")
    assert change.message == "primary key changed from (order_id) to (order_id, line)"


def test_metadata_changes_are_reported_and_not_breaking() -> None:
    old = col("email", description="Contact address", tags=("contact",))
    new = col("email", description="Customer e-mail", classification="pii", masking="hash", tags=("gdpr",))
    changes = diff(old, new)
    assert {c.what for c in changes} == {
        "classification-changed",
        "masking-changed",
        "description-changed",
        "tags-changed",
    }
    assert not is_breaking(changes)
    messages = "\n".join(c.message for c in changes)
    assert "classification changed from none to pii (now sensitive)" in messages
    assert "description changed from 'Contact address' to 'Customer e-mail'" in messages
    assert "tags added 'gdpr' and removed 'contact'" in messages


def test_table_description_and_tags_are_not_breaking() -> None:
    changes = diff_contracts(contract(*BASE), contract(*BASE, description="Orders", tags=("sales",)))
    assert [(c.what, c.column, c.kind) for c in changes] == [
        ("description-changed", None, "non-breaking"),
        ("tags-changed", None, "non-breaking"),
    ]


def test_contract_id_changed_is_breaking() -> None:
    change = one(diff_contracts(contract(*BASE), contract(*BASE, id="sales-orders-v2")))
    assert (change.kind, change.what) == ("breaking", "contract-id-changed")


def test_column_order_alone_is_not_breaking() -> None:
    a, b = col("a"), col("b")
    change = one(diff_contracts(contract(a, b), contract(b, a)))
    assert (change.kind, change.what, change.column) == ("non-breaking", "columns-reordered", None)
    assert "['a', 'b'] to ['b', 'a']" in change.message


# --- quality rules and SLA ----------------------------------------------------------------------------------


def nulls(operator: Any, value: Any, **kwargs: Any) -> QualityRule:
    return QualityRule("library", metric="nullValues", threshold=Threshold(operator, value), **kwargs)


@pytest.mark.parametrize(
    ("old", "new", "what"),
    [
        ((), (nulls("mustBe", 0),), "quality-rule-added"),
        ((nulls("mustBe", 0),), (), "quality-rule-removed"),
        ((nulls("mustBeLessOrEqualTo", 5),), (nulls("mustBe", 0),), "quality-rule-tightened"),
        ((nulls("mustBeLessThan", 5),), (nulls("mustBeLessOrEqualTo", 10),), "quality-rule-loosened"),
        ((nulls("mustBeBetween", [0, 10]),), (nulls("mustBeBetween", [2, 5]),), "quality-rule-tightened"),
        ((nulls("mustBe", 0),), (nulls("mustBe", 0, severity="warning"),), "quality-rule-loosened"),
        ((nulls("mustBe", 0),), (nulls("mustBe", 0, unit="percent"),), "quality-rule-changed"),
        ((nulls("mustBe", 0),), (nulls("mustNotBe", 1),), "quality-rule-changed"),
    ],
)
def test_column_quality_rules_are_reported_and_not_breaking(
    old: tuple[QualityRule, ...], new: tuple[QualityRule, ...], what: str
) -> None:
    change = one(diff(col("email", quality=old), col("email", quality=new)))
    assert (change.kind, change.column, change.what) == ("non-breaking", "email", what)
    assert change.message.startswith("column 'email' quality rule 'nullValues'")


def test_equivalent_thresholds_are_no_change() -> None:
    old = (nulls("mustBe", 0),)
    assert diff(col("email", quality=old), col("email", quality=(nulls("mustBeBetween", [0, 0]),))) == ()


def test_table_quality_rule_matched_by_name() -> None:
    rule = QualityRule("library", metric="rowCount", threshold=Threshold("mustBeGreaterThan", 0), name="rows")
    moved = QualityRule(
        "library", metric="rowCount", threshold=Threshold("mustBeGreaterThan", 100), name="rows"
    )
    change = one(diff_contracts(contract(*BASE, quality=(rule,)), contract(*BASE, quality=(moved,))))
    assert (change.column, change.what) == (None, "quality-rule-tightened")
    assert change.message == "table quality rule 'rows' tightened: threshold > 0 → > 100"


def test_sla_changes_are_reported() -> None:
    old = contract(*BASE, sla=(SlaProperty("freshness", 24, "h", "orders.created_at"),))
    new = contract(
        *BASE, sla=(SlaProperty("freshness", 12, "h", "orders.created_at"), SlaProperty("uniqueness", 1))
    )
    assert [(c.what, c.message) for c in diff_contracts(old, new)] == [
        ("sla-changed", "SLA freshness changed from 24 h to 12 h"),
        ("sla-added", "SLA uniqueness (1) added"),
    ]


# --- versions and rendering ---------------------------------------------------------------------------------

BREAKING = (Change("breaking", "email", "column-removed", "column 'email' removed (was string)"),)
MINOR = (Change("non-breaking", "channel", "column-added", "column 'channel' added (string, optional)"),)


def test_breaking_change_with_minor_bump_needs_a_major() -> None:
    message = required_bump("1.2.0", "1.3.0", BREAKING)
    assert message is not None
    assert "major" in message and "2.0.0" in message and "column 'email' removed" in message


def test_breaking_change_with_major_bump_passes() -> None:
    assert required_bump("1.2.0", "2.0.0", BREAKING) is None


def test_breaking_change_in_zero_major_still_needs_a_major() -> None:
    assert required_bump("0.3.0", "0.4.0", BREAKING) is not None


def test_non_breaking_change_with_minor_bump_passes() -> None:
    assert required_bump("1.2.0", "1.3.0", MINOR) is None


def test_identical_contracts_need_no_bump() -> None:
    c = contract(*BASE)
    changes = diff_contracts(c, c)
    assert changes == ()
    assert required_bump("1.2.0", "1.2.0", changes) is None


def test_changed_contract_with_same_version_needs_a_bump() -> None:
    message = required_bump("1.2.0", "1.2.0", MINOR)
    assert message is not None and "1.3.0" in message


@pytest.mark.parametrize("changes", [(), MINOR, BREAKING])
def test_version_decreased_is_refused(changes: tuple[Change, ...]) -> None:
    message = required_bump("2.1.0", "2.0.9", changes)
    assert message is not None and "lower" in message


def test_version_that_is_not_semver_is_refused() -> None:
    message = required_bump("1.0.0", "two", MINOR)
    assert message is not None and "'two'" in message


def test_render_changes_lists_breaking_first_with_a_summary() -> None:
    text = render_changes(MINOR + BREAKING)
    lines = text.splitlines()
    assert lines[0].split() == ["KIND", "COLUMN", "CHANGE", "DETAIL"]
    assert lines[1].startswith("breaking") and "column 'email' removed" in lines[1]
    assert lines[2].startswith("non-breaking") and "column-added" in lines[2]
    assert lines[1].index("column-removed") == lines[2].index("column-added")  # aligned columns
    assert lines[-1] == "2 changes: 1 breaking, 1 non-breaking"
    assert render_changes(()) == "no changes"


def test_change_as_dict_and_str() -> None:
    change = BREAKING[0]
    assert change.as_dict() == {
        "kind": "breaking",
        "column": "email",
        "what": "column-removed",
        "message": "column 'email' removed (was string)",
    }
    assert str(change) == change.message
