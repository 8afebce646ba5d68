"""The report's last section, Data quality: the input rows quarantined on the day, by source and reason
(kol_pipeline.lib.quality.validation.summarize_quarantine), and the asset checks that failed for the day (the lines
the asset kol_pipeline.defs.reporting looks up in Dagster's event log; None when they could not be read). Returns
the HTML of the section's body; the page around it is kol_pipeline.lib.reporting.report.
"""

from __future__ import annotations

import pandas as pd

from kol_pipeline.lib.quality.validation import summarize_quarantine
from kol_pipeline.lib.reporting.formatting import escape, fmt_int, hint, table


def quality_section(quarantine_day: pd.DataFrame, failed_checks: list[str] | None) -> str:
    parts = []
    summary = summarize_quarantine(quarantine_day.drop(columns=["snapshot_date"], errors="ignore"))
    total = int(summary["rows"].sum()) if len(summary) else 0
    parts.append("<h3>Quarantined rows</h3>")
    if total == 0:
        parts.append(hint("No input row was rejected on this day."))
    else:
        parts.append(
            hint(
                f"{total:,} input rows were rejected on this day and left out of every figure above "
                "(see the quarantine table for each row)."
            )
        )
        parts.append(
            table(
                ["Source", "Reason", "Rows", "Files"],
                [
                    [str(r.source), str(r.reason), fmt_int(r.rows), fmt_int(r.files)]
                    for r in summary.itertuples(index=False)
                ],
                numeric=(2, 3),
            )
        )
    parts.append("<h3>Failed checks</h3>")
    if failed_checks is None:
        parts.append(hint("Check results were not available when this report was built."))
    elif not failed_checks:
        parts.append(hint("No failed check recorded for this day."))
    else:
        parts.append('<ul class="checks">' + "".join(f"<li>{escape(c)}</li>" for c in failed_checks) + "</ul>")
    return "".join(parts)
