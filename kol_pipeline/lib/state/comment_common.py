"""What the comment state's fold (``comment_state.py``) and the reading of it (``comment_view.py``) share: the
state's columns and window, the names of the rows this connection adds, and how an input (a DuckDB relation, an
Arrow table or a pandas frame) is registered and typed in SQL."""

from __future__ import annotations

from collections.abc import Sequence

import duckdb
import pyarrow as pa

KEEP_DAYS = 121  # a comment stays in the state 122 days after its last sighting (note_metrics' comment window)
#: the state's columns (each stored partition has them, plus snapshot_date and base), with their SQL types
STATE_TYPES = {
    "comment_id": "VARCHAR",
    "note_id": "VARCHAR",
    "first_sd": "DATE",
    "last_sd": "DATE",
    "norm_text": "VARCHAR",
    "top_first": "BOOLEAN",
    "top_sub_first": "BOOLEAN",
    "lt_note_id": "VARCHAR",
    "lt_sub": "BOOLEAN",
    "lt_sent": "VARCHAR",
}
RUN = "comment_state_run"  # this connection's rows (the run's days, a bootstrapped state)
RUN_ROWS = "comment_state_run_rows"  # RUN and the files of a bootstrapped base (``comment_state.fold_days``)


def typed(name: str, types: dict[str, str], have: Sequence[str], extra: str = "") -> str:
    """SELECT list over ``name`` casting each column to its type (a missing one is a typed null)."""
    cols = [f"CAST({c if c in have else 'NULL'} AS {t}) AS {c}" for c, t in types.items()]
    return f"SELECT {', '.join(cols)}{extra} FROM {name}"


def columns_of(obj) -> list[str]:
    """The column names of ``obj`` (a DuckDB relation, an Arrow table or a pandas frame)."""
    if isinstance(obj, duckdb.DuckDBPyRelation):
        return list(obj.columns)
    if isinstance(obj, pa.Table):
        return list(obj.column_names)
    return list(obj.columns)


def register(con: duckdb.DuckDBPyConnection, name: str, obj) -> None:
    """Make ``obj`` visible to ``con``'s SQL as ``name``: a DuckDB relation as a view, else registered."""
    if isinstance(obj, duckdb.DuckDBPyRelation):
        obj.create_view(name, replace=True)
    else:
        con.register(name, obj)
