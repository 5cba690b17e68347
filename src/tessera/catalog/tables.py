"""The catalog's tables (SQLAlchemy Core). Changes go through an Alembic migration in ``migrations/``."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

__all__ = [
    "access_requests",
    "audit_anchor",
    "audit_events",
    "builds",
    "catalog_generation",
    "column_lineage",
    "column_profiles",
    "columns",
    "consumer_expectations",
    "contracts",
    "domains",
    "grants",
    "group_members",
    "incidents",
    "lineage_edges",
    "majors",
    "metadata",
    "notifications",
    "principals",
    "product_roles",
    "products",
    "quality_checks",
    "quality_runs",
    "share_grants",
    "share_recipients",
    "share_tables",
    "shares",
    "storage_locations",
    "subscriptions",
    "tokens",
    "versions",
]

metadata = MetaData()
TS = DateTime(timezone=True)

domains = Table(
    "domains",
    metadata,
    Column("name", String(128), primary_key=True),
    Column("description", Text, nullable=False),
    Column("owner", String(256), nullable=False),
    Column("team", String(256)),
    Column("document", JSON, nullable=False),
    Column("hash", String(64), nullable=False),
    Column("updated_at", TS, nullable=False),
)

products = Table(
    "products",
    metadata,
    Column("address", String(256), primary_key=True),
    Column("domain", String(128), ForeignKey("domains.name"), nullable=False),
    Column("name", String(128), nullable=False),
    Column("description", Text),
    Column("status", String(32), nullable=False),
    Column("owner", String(256)),
    Column("tags", JSON, nullable=False),
    Column("document", JSON, nullable=False),
    Column("hash", String(64), nullable=False),
    Column("contract_id", String(256), nullable=False),
    Column("contract_version", String(64), nullable=False),
    Column("contract_hash", String(64), nullable=False),
    Column("storage_uri", Text, nullable=False),
    Column("write_mode", String(16), nullable=False),
    Column("update_frequency", String(64)),
    Column("retired", Boolean, nullable=False, default=False),
    Column("created_at", TS, nullable=False),
    Column("updated_at", TS, nullable=False),
)

product_roles = Table(
    "product_roles",
    metadata,
    Column("address", String(256), ForeignKey("products.address", ondelete="CASCADE"), primary_key=True),
    Column("username", String(256), primary_key=True),
    Column("role", String(64), primary_key=True),
)

columns = Table(
    "columns",
    metadata,
    Column("address", String(256), ForeignKey("products.address", ondelete="CASCADE"), primary_key=True),
    Column("name", String(256), primary_key=True),
    Column("position", Integer, nullable=False),
    Column("logical_type", String(32), nullable=False),
    Column("physical_type", String(128)),
    Column("description", Text),
    Column("classification", String(64)),
    Column("tags", JSON, nullable=False),
    Column("required", Boolean, nullable=False),
    Column("primary_key", Boolean, nullable=False),
)

contracts = Table(
    "contracts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("address", String(256), nullable=False),
    Column("contract_id", String(256), nullable=False),
    Column("version", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
    Column("document", JSON, nullable=False),
    Column("created_at", TS, nullable=False),
    UniqueConstraint("address", "hash", name="uq_contracts_address_hash"),
)

storage_locations = Table(
    "storage_locations",
    metadata,
    Column("uri", Text, primary_key=True),
    Column("address", String(256), nullable=False),
    Column("created_at", TS, nullable=False),
)

majors = Table(
    "majors",
    metadata,
    Column("address", String(256), primary_key=True),
    Column("major", Integer, primary_key=True),
    Column("table_uri", Text, nullable=False),
    Column("status", String(16), nullable=False),
    Column("deprecated_at", TS),
    Column("retire_after", TS),
    Column("successor", Integer),
)

versions = Table(
    "versions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("address", String(256), nullable=False),
    Column("major", Integer, nullable=False),
    Column("delta_version", BigInteger, nullable=False),
    Column("table_uri", Text, nullable=False),
    Column("contract_version", String(64), nullable=False),
    Column("contract_hash", String(64), nullable=False),
    Column("product_version", String(64), nullable=False),
    Column("run_id", String(64), nullable=False),
    Column("row_count", BigInteger),
    Column("operation", String(16), nullable=False),
    Column("published_at", TS, nullable=False),
    UniqueConstraint("address", "major", "delta_version", name="uq_versions_address_major_delta"),
)

quality_runs = Table(
    "quality_runs",
    metadata,
    Column("run_id", String(64), primary_key=True),
    Column("address", String(256), nullable=False),
    Column("contract_version", String(64), nullable=False),
    Column("outcome", String(16), nullable=False),
    Column("published", Boolean, nullable=False),
    Column("row_count", BigInteger, nullable=False),
    Column("started_at", TS, nullable=False),
    Column("finished_at", TS, nullable=False),
    Column("summary", JSON, nullable=False),
)

quality_checks = Table(
    "quality_checks",
    metadata,
    Column("run_id", String(64), ForeignKey("quality_runs.run_id", ondelete="CASCADE"), primary_key=True),
    Column("name", String(256), primary_key=True),
    Column("metric", String(64), nullable=False),
    Column("column_name", String(256)),
    Column("threshold", String(128), nullable=False),
    Column("measured", Float),
    Column("unit", String(16), nullable=False),
    Column("outcome", String(16), nullable=False),
    Column("severity", String(16), nullable=False),
    Column("message", Text, nullable=False),
    Column("samples", JSON, nullable=False),
)

lineage_edges = Table(
    "lineage_edges",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("source", String(256), nullable=False),
    Column("target", String(256), nullable=False),
    Column("source_column", String(256)),
    Column("target_column", String(256)),
    Column("kind", String(32), nullable=False),
)

column_lineage = Table(
    "column_lineage",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("address", String(256), nullable=False),
    Column("major", Integer, nullable=False),
    Column("delta_version", BigInteger, nullable=False),
    Column("source", String(256), nullable=False),
    Column("source_column", String(256), nullable=False),
    Column("target_column", String(256)),
    Column("kind", String(32), nullable=False),
)

builds = Table(
    "builds",
    metadata,
    Column("address", String(256), primary_key=True),
    Column("fingerprint", String(64), nullable=False),
    Column("major", Integer, nullable=False),
    Column("delta_version", BigInteger, nullable=False),
    Column("built_at", TS, nullable=False),
)

incidents = Table(
    "incidents",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("address", String(256), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("detail", Text, nullable=False),
    Column("opened_at", TS, nullable=False),
    Column("resolved_at", TS),
)

audit_events = Table(
    "audit_events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", TS, nullable=False),
    Column("actor", String(256), nullable=False),
    Column("action", String(64), nullable=False),
    Column("subject", String(256), nullable=False),
    Column("details", JSON, nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
)

#: The newest audit entry's sequence number and hash, written in the same transaction as the entry: a chain cut
#: short at its end (the last entries deleted) no longer matches it.
audit_anchor = Table(
    "audit_anchor",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("seq", Integer, nullable=False),
    Column("hash", String(64), nullable=False),
)

#: Moved by every write to any other table, in the writing transaction (database triggers, migration 0006): what
#: caches of catalog views are keyed by (``tessera.catalog.generation``).
catalog_generation = Table(
    "catalog_generation",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("n", BigInteger, nullable=False),
)

# -- access: identities, grants, tokens, access requests ------------------------------------------------------

principals = Table(
    "principals",
    metadata,
    Column("name", String(256), primary_key=True),
    Column("kind", String(16), nullable=False),  # user | service | group
    Column("display_name", String(256)),
    Column("created_at", TS, nullable=False),
    Column("created_by", String(256), nullable=False),
    Column("email", String(320)),  # where notifications by email go (migration 0007)
)

group_members = Table(
    "group_members",
    metadata,
    Column("group_name", String(256), ForeignKey("principals.name", ondelete="CASCADE"), primary_key=True),
    Column("member", String(256), ForeignKey("principals.name", ondelete="CASCADE"), primary_key=True),
)

grants = Table(
    "grants",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("principal", String(256), ForeignKey("principals.name", ondelete="CASCADE"), nullable=False),
    Column("privilege", String(16), nullable=False),  # read | publish | admin
    Column("scope", String(256), nullable=False),  # mesh | domain:NAME | DOMAIN.PRODUCT
    Column("role", String(64)),  # the ownership role the grant stands for, when given as a role
    Column("clearance", Boolean, nullable=False, default=False),  # sees sensitive columns unmasked
    Column("row_filter", Text),  # a SQL predicate over the product's columns
    Column("granted_by", String(256), nullable=False),
    Column("granted_at", TS, nullable=False),
    Column("expires_at", TS),
    Column("revoked_at", TS),
    Column("revoked_by", String(256)),
    Column("request_id", Integer),
)

tokens = Table(
    "tokens",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("principal", String(256), ForeignKey("principals.name", ondelete="CASCADE"), nullable=False),
    Column("secret_hash", String(64), nullable=False),
    Column("label", String(256)),
    Column("created_at", TS, nullable=False),
    Column("expires_at", TS, nullable=False),
    Column("revoked_at", TS),
    Column("last_used_at", TS),
)

access_requests = Table(
    "access_requests",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("principal", String(256), nullable=False),
    Column("address", String(256), nullable=False),
    Column("purpose", Text, nullable=False),
    Column("status", String(16), nullable=False),  # pending | approved | rejected
    Column("requested_at", TS, nullable=False),
    Column("decided_by", String(256)),
    Column("decided_at", TS),
    Column("reason", Text),
    Column("grant_id", Integer),
)

# -- Delta Sharing: shares, their tables, recipients and which recipient may read which share ------------------

shares = Table(
    "shares",
    metadata,
    Column("name", String(128), primary_key=True),
    Column("id", String(36), nullable=False, unique=True),
    Column("comment", Text),
    Column("created_at", TS, nullable=False),
    Column("created_by", String(256), nullable=False),
)

share_tables = Table(
    "share_tables",
    metadata,
    Column("share", String(128), ForeignKey("shares.name", ondelete="CASCADE"), primary_key=True),
    Column("schema_name", String(128), primary_key=True),
    Column("table_name", String(128), primary_key=True),
    Column("id", String(36), nullable=False),
    Column("address", String(256), nullable=False),
    Column("major", Integer),  # NULL: the product's newest major
    Column("added_at", TS, nullable=False),
    Column("added_by", String(256), nullable=False),
)

share_recipients = Table(
    "share_recipients",
    metadata,
    Column("name", String(128), primary_key=True),
    Column("principal", String(256)),  # whose grants (clearance, row filters) apply; NULL: none, all masked
    Column("token_id", String(32), unique=True),
    Column("secret_hash", String(64)),
    Column("token_issued_at", TS),
    Column("created_at", TS, nullable=False),
    Column("created_by", String(256), nullable=False),
    Column("expires_at", TS),
    Column("revoked_at", TS),
    Column("revoked_by", String(256)),
    Column("last_used_at", TS),
)

share_grants = Table(
    "share_grants",
    metadata,
    Column("share", String(128), ForeignKey("shares.name", ondelete="CASCADE"), primary_key=True),
    Column(
        "recipient", String(128), ForeignKey("share_recipients.name", ondelete="CASCADE"), primary_key=True
    ),
    Column("granted_at", TS, nullable=False),
    Column("granted_by", String(256), nullable=False),
)

# -- consumers: expectations, subscriptions, notifications, column profiles (migration 0007) -----------------

#: Expectations a consumer outside the mesh registered of a product (a consuming product declares its own in
#: its product file's input port, ``tessera.expectations``); an ODCS fragment: columns, types, quality rules.
consumer_expectations = Table(
    "consumer_expectations",
    metadata,
    Column("consumer", String(256), primary_key=True),
    Column("address", String(256), primary_key=True),
    Column("major", Integer),  # NULL: whichever major is newest
    Column("owner", String(256), nullable=False),
    Column("expectations", JSON, nullable=False),
    Column("registered_at", TS, nullable=False),
    Column("registered_by", String(256), nullable=False),
)

#: Who follows which product, for which events (a JSON list of event names; empty: every event).
subscriptions = Table(
    "subscriptions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("principal", String(256), nullable=False),
    Column("address", String(256), nullable=False),
    Column("events", JSON, nullable=False),
    Column("created_at", TS, nullable=False),
    Column("created_by", String(256), nullable=False),
    UniqueConstraint("principal", "address"),
)

#: The outbox: one row per delivery of one event to one recipient over one channel, queued in the transaction
#: that records the event, retried with backoff, never sent twice (``dedup_key`` is unique). ``target`` is an
#: email address or the name of a channel in mesh.yaml, never a secret.
notifications = Table(
    "notifications",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("event", String(64), nullable=False),
    Column("address", String(256), nullable=False),
    Column("recipient", String(256), nullable=False),
    Column("channel", String(32), nullable=False),  # email | slack | teams | webhook
    Column("target", String(512), nullable=False),
    Column("dedup_key", String(512), nullable=False, unique=True),
    Column("subject", Text, nullable=False),
    Column("payload", JSON, nullable=False),
    Column("status", String(16), nullable=False),  # queued | sent | failed
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", TS),
    Column("last_error", Text),
    Column("created_at", TS, nullable=False),
    Column("sent_at", TS),
)

#: Column profiles computed at publish in the gate's pass: one row per column of a published Delta version.
#: A masked (sensitive) column keeps counts only: ``min_value``, ``max_value`` and ``top_values`` stay NULL.
column_profiles = Table(
    "column_profiles",
    metadata,
    Column("address", String(256), primary_key=True),
    Column("major", Integer, primary_key=True),
    Column("delta_version", BigInteger, primary_key=True),
    Column("column_name", String(256), primary_key=True),
    Column("row_count", BigInteger, nullable=False),
    Column("null_count", BigInteger, nullable=False),
    Column("distinct_count", BigInteger),
    Column("min_value", Text),
    Column("max_value", Text),
    Column("top_values", JSON),  # [[value, count], ...] most frequent first
    Column("masked", Boolean, nullable=False, default=False),
    Column("profiled_at", TS, nullable=False),
)

Index("ix_grants_principal", grants.c.principal)
Index("ix_grants_scope", grants.c.scope)
Index("ix_tokens_principal", tokens.c.principal)
Index("ix_access_requests_address", access_requests.c.address, access_requests.c.status)
Index("ix_versions_address", versions.c.address, versions.c.major)
Index("ix_quality_runs_address", quality_runs.c.address, quality_runs.c.started_at)
Index("ix_lineage_target", lineage_edges.c.target)
Index("ix_lineage_source", lineage_edges.c.source)
Index("ix_contracts_address", contracts.c.address)
Index(
    "ix_column_lineage_version",
    column_lineage.c.address,
    column_lineage.c.major,
    column_lineage.c.delta_version,
)
Index("ix_column_lineage_source", column_lineage.c.source, column_lineage.c.source_column)
Index("ix_incidents_open", incidents.c.address, incidents.c.resolved_at)
Index("ix_subscriptions_address", subscriptions.c.address)
Index("ix_notifications_due", notifications.c.status, notifications.c.next_attempt_at)
Index("ix_notifications_address", notifications.c.address, notifications.c.created_at)
