"""The product page's parts beyond the catalog facts (``web_views.product_page``): its tabs, the data preview,
the column profiles and the "how to use" snippets.

The tabs are a list in the view model (``TABS``), each naming its panel's template under
``templates/product/``: adding a tab (usage, consumers) is one ``Tab`` and one template. ``header_actions`` and
``overview_panels`` are the same kind of list for the header's buttons (Follow) and the overview's side panels
(an SLO chart). The preview is rows, so it comes through the reader for the viewing principal (masked,
row-filtered, audited; docs/architecture.md, "The one door"); an anonymous viewer or one without a read grant
gets none, and a prompt instead."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from tessera.errors import AccessDeniedError, TesseraError
from tessera.model.profile import VersionProfile
from tessera.platform.context import Context
from tessera.platform.reading.reader import Reader, network_caller

__all__ = [
    "PREVIEW_ROWS",
    "TABS",
    "Preview",
    "Snippet",
    "Tab",
    "active_tab",
    "preview",
    "profiles",
    "snippets",
]

PREVIEW_ROWS = 20
#: Longer cells are cut, with an ellipsis, in the preview.
CELL_CHARS = 40


@dataclass(frozen=True, slots=True)
class Tab:
    """A tab of the product page: ``id`` is its panel's id and ``?tab=`` value; ``panel`` its template."""

    id: str
    label: str
    panel: str


TABS: tuple[Tab, ...] = (
    Tab("overview", "Overview", "product/overview.html"),
    Tab("schema", "Schema", "product/schema.html"),
    Tab("quality", "Quality", "product/quality.html"),
    Tab("lineage", "Lineage", "product/lineage.html"),
    Tab("usage", "Usage", "product/usage.html"),
    Tab("consumers", "Consumers", "product/consumers.html"),
    Tab("contract", "Contract", "product/contract.html"),
    Tab("versions", "Versions", "product/versions.html"),
    Tab("access", "Access", "product/access.html"),
)


def active_tab(tabs: tuple[Tab, ...] | list[Tab], wanted: str | None) -> Tab:
    """The tab ``?tab=`` names; the first (overview) for none or an unknown one."""
    return next((t for t in tabs if t.id == wanted), tabs[0])


@dataclass(frozen=True, slots=True)
class Preview:
    """The first rows as the viewer may see them; ``rows`` empty and ``reason`` set when it may not read."""

    columns: tuple[str, ...] = ()
    masked: frozenset[str] = frozenset()
    rows: tuple[tuple[str, ...], ...] = ()
    release: str | None = None
    reason: str | None = None
    may_request: bool = False


def _cell(value: Any) -> str:
    if value is None:
        return ""
    text = value if isinstance(value, str) else str(value)
    return text if len(text) <= CELL_CHARS else text[: CELL_CHARS - 1] + "…"


def preview(ctx: Context, address: str) -> Preview:
    """Up to ``PREVIEW_ROWS`` rows of the newest version, read through the reader as the viewer."""
    if not ctx.authenticated:
        return Preview(reason="Sign in to preview the data: rows are shown to readers of this product only.")
    try:
        served = Reader(ctx, network_caller(ctx)).read(address, limit=PREVIEW_ROWS)
    except AccessDeniedError:
        return Preview(
            reason="You may not read this product, so no rows are shown.",
            may_request=True,
        )
    except TesseraError as exc:
        return Preview(reason=f"No preview: {exc}")
    table = served.table
    from tessera.storage.schema import METADATA_COLUMNS  # with the rows: the server starts without Arrow

    provenance = {name for name, _ in METADATA_COLUMNS}
    names = tuple(n for n in table.column_names if n not in provenance)
    masked = Reader(ctx, network_caller(ctx)).masked_columns(address) & set(names)
    data = table.select(list(names)).to_pylist()
    rows = tuple(tuple(_cell(row[n]) for n in names) for row in data)
    return Preview(names, masked, rows, served.source)


def profiles(ctx: Context, address: str) -> VersionProfile | None:
    """The newest version's column profiles as the viewer may see them (values only for full readers)."""
    try:
        return Reader(ctx, network_caller(ctx)).profiles(address)
    except TesseraError:
        return None


@dataclass(frozen=True, slots=True)
class Snippet:
    id: str
    label: str
    language: str
    code: str
    note: str = ""


@dataclass(frozen=True, slots=True)
class Shared:
    """Where the product is served by Delta Sharing: ``share.schema.table``."""

    table: str


def shared_as(ctx: Context, address: str) -> Shared | None:
    from tessera.platform.sharing.shares import Sharing

    try:
        sharing = Sharing(ctx)
        for share in sharing.shares():
            detail = sharing.show(share.name)
            for table in detail.tables:
                if table.address == address:
                    return Shared(f"{table.share}.{table.schema}.{table.name}")
    except TesseraError:
        return None
    return None


def snippets(address: str, server: str, mesh_folder: str, shared: Shared | None) -> list[Snippet]:
    """Working invocations for ``address``: the CLI over the mesh folder, the SDK over this server, pandas and
    Polars, Spark, a Delta Sharing profile. Each reads as the token's principal (``$TESSERA_TOKEN``)."""
    url = json.dumps(server)
    name = json.dumps(address)
    sql = f"select * from {address} limit 10"
    python = (
        "import tessera\n\n"
        f"with tessera.open({url}) as mesh:  # reads as $TESSERA_TOKEN's principal\n"
        f"    table = mesh.product({name}).read(limit=1000)  # pyarrow.Table, masked and filtered for you\n"
        f"    count = mesh.query({json.dumps(f'select count(*) as n from {address}')})\n"
        'print(table.num_rows, count.column("n")[0])\n'
    )
    frames = (
        "import polars as pl\nimport tessera\n\n"
        f"with tessera.open({url}) as mesh:\n"
        f"    table = mesh.product({name}).read()\n"
        "df = table.to_pandas()  # pandas\n"
        "frame = pl.from_arrow(table)  # Polars\n"
        "print(df.shape, frame.shape)\n"
    )
    spark = (
        "import tessera\nfrom pyspark.sql import SparkSession\n\n"
        "spark = SparkSession.builder.getOrCreate()\n"
        f"with tessera.open({url}) as mesh:\n"
        f"    table = mesh.product({name}).read()\n"
        "df = spark.createDataFrame(table.to_pandas())\n"
    )
    if shared is not None:
        profile = "profile.share"
        source = json.dumps(f"{profile}#{shared.table}")
        spark += f'# or over Delta Sharing: spark.read.format("deltaSharing").load({source})\n'
        sharing = (
            f"# an admin writes your profile file: tessera share profile RECIPIENT --endpoint {server} "
            f"--output {profile}\n"
            "import delta_sharing\n\n"
            f"df = delta_sharing.load_as_pandas({source})\n"
        )
        sharing_note = f"Served as {shared.table}."
    else:
        sharing = (
            "# not in a share yet: an admin shares it and writes you a profile file\n"
            f"tessera share add SHARE {address}\n"
            "tessera share recipient create RECIPIENT\n"
            "tessera share grant SHARE RECIPIENT\n"
            f"tessera share profile RECIPIENT --endpoint {server} --output RECIPIENT.share\n"
        )
        sharing_note = "This product is not in a Delta Sharing share yet."
    return [
        Snippet(
            "sql",
            "SQL",
            "shell",
            f'tessera -C {json.dumps(mesh_folder)} query "{sql}"\n',
            "On the mesh folder; reads as $TESSERA_TOKEN's principal.",
        ),
        Snippet("python", "Python SDK", "python", python, "pip install 'tessera[remote]'"),
        Snippet("frames", "pandas / Polars", "python", frames),
        Snippet(
            "spark",
            "Spark",
            "python",
            spark,
            "A notebook's own spark session works as well; for Spark Connect set SPARK_REMOTE=sc://HOST:15002.",
        ),
        Snippet("sharing", "Delta Sharing", "python" if shared else "shell", sharing, sharing_note),
    ]


@dataclass
class Extras:
    """Room for panels other parts of the page add (a Follow button, an SLO chart, a consumers list): each a
    template name, rendered with the page's values."""

    header_actions: list[str] = field(default_factory=list)
    overview_panels: list[str] = field(default_factory=list)
    #: What those templates show, by name (``page.extras.data["usage"]``), so a panel needs no new page field.
    data: dict[str, Any] = field(default_factory=dict)


def complete(page: Any, ctx: Context, address: str, wanted_tab: str | None, server: str) -> None:
    """Fill the tabbed page's parts into ``page`` (a ``web_views.ProductPage``)."""
    page.tabs = list(TABS)
    page.active = active_tab(page.tabs, wanted_tab)
    published = bool(page.history)
    page.extras = Extras()
    _panels(page.extras, ctx, address)  # before the preview: its read is this view's, not yet a past use
    page.preview = preview(ctx, address) if published else None
    page.profiles = profiles(ctx, address) if published else None
    page.snippets = snippets(address, server, str(ctx.root), shared_as(ctx, address))
    if ctx.authenticated:
        from tessera.platform.notifying.following import Notifications

        page.extras.header_actions.append("product/follow.html")
        page.extras.data["following"] = bool(Notifications(ctx).subscriptions(ctx.actor, address=address))


def _panels(extras: Extras, ctx: Context, address: str) -> None:
    """Usage and consumers tabs, the SLO panel of the overview and the notifications of the access tab
    (``web_panels``), each as the viewer may see it."""
    from tessera.server import web_panels as panels

    extras.data["usage"] = panels.usage_of(ctx, address)
    extras.data["consumers"] = panels.consumers_of(ctx, address)
    extras.data["slo"] = panels.slos_of(ctx, address)
    extras.data["notifications"] = panels.notifications_of(ctx, address)
    extras.overview_panels.append("product/slo.html")
