"""docs/tables.md is generated from the table specs: the committed page must equal what the generator renders now
(regenerate with `make docs` after a schema change), and every warehouse table the code location writes is in it."""

import re
from dataclasses import replace
from pathlib import Path

import pyarrow as pa

from kol_pipeline import docs_gen
from kol_pipeline.lib.schemas import TABLES, Column
from kol_pipeline.resources.warehouse import WarehouseIOManager

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs" / "tables.md"
# assets that may be added later by others without their table being documented yet
NOT_YET = {"daily_report"}


def _documented(text: str) -> set[str]:
    return set(re.findall(r"^### `([a-z0-9_]+)`$", text, flags=re.M))


def test_committed_tables_md_is_current():
    assert DOCS.exists(), "docs/tables.md missing: run `make docs`"
    assert DOCS.read_text(encoding="utf-8") == docs_gen.render_tables_md(), (
        "docs/tables.md is out of date with kol_pipeline/lib/schemas.py: run `make docs` and commit it"
    )


def test_every_spec_and_column_is_on_the_page():
    text = DOCS.read_text(encoding="utf-8")
    assert _documented(text) == set(docs_gen.load_registered_tables())
    for spec in TABLES.values():
        section = text.split(f"### `{spec.name}`", 1)[1].split("\n### ", 1)[0]
        for col in spec.columns:
            assert f"| `{col.name}` | `{col.type}` |" in section, (spec.name, col.name)
        assert ("Partitioned by `snapshot_date`" in section) == spec.partitioned, spec.name


def test_every_warehouse_asset_is_documented():
    from kol_pipeline.orchestration.planning import load_definitions

    defs = load_definitions()
    graph = defs.resolve_asset_graph()
    documented = _documented(DOCS.read_text(encoding="utf-8"))
    warehouse_keys = {k for k, r in (defs.resources or {}).items() if isinstance(r, WarehouseIOManager)}
    assert warehouse_keys == {"io_manager"}
    writers = set()
    for spec in defs.resolve_all_asset_specs():
        node = graph.get(spec.key)
        if node.io_manager_key in warehouse_keys:
            writers.add(spec.key.path[-1])  # the IO manager's table is the key's last component
    assert len(writers) >= 20  # sanity: the whole graph was loaded
    missing = sorted(writers - documented - NOT_YET)
    assert not missing, f"assets writing warehouse tables missing from docs/tables.md: {missing} (run `make docs`)"


def test_render_reflects_a_schema_change(monkeypatch):
    """The up-to-date test can fail: a new column, or a changed type, changes the page."""
    before = docs_gen.render_tables_md()
    spec = TABLES["brands"]
    changed = replace(spec, columns=spec.columns + (Column("website", pa.string(), "brand site"),))
    monkeypatch.setitem(TABLES, "brands", changed)
    after = docs_gen.render_tables_md()
    assert after != before
    assert "| `website` | `string` | brand site |" in after
    assert "| `website` |" not in before


def test_pipes_in_descriptions_are_escaped():
    text = docs_gen.render_tables_md()
    row = next(ln for ln in text.splitlines() if ln.startswith("| `comment_class` |"))
    assert row.count(" | ") == 2  # three cells: the description's own pipes are escaped
    assert "purchase_intent\\|question" in row


def test_main_writes_the_page(tmp_path):
    target = tmp_path / "tables.md"
    assert docs_gen.main([str(target)]) == 0
    assert target.read_text(encoding="utf-8") == docs_gen.render_tables_md()
