"""The load report of :func:`svcmining.read_tickets`: what was read, kept and dropped.

:class:`LoadReport` (re-exported by :mod:`svcmining.io`) and :class:`Drops`, the row
accounting every step of the loader adds to (counts and examples per drop reason).
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

DROP_REASONS: dict[str, str] = {
    "malformed_row": "CSV line with the wrong number of fields",
    "missing_case_id": "no ticket id",
    "missing_activity": "no activity",
    "unparseable_timestamp": "time could not be parsed",
    "missing_timestamp": "no time",
    "repeated_in_later_export": "the same event, unchanged, in a newer export",
    "duplicate_event": "exact copy of an event in the same file (double write)",
    "conflicting_duplicate": "older copy of an event that a newer export changed (see conflicts)",
    "lifecycle_start_merged": "START row merged into its COMPLETE row",
    "lifecycle_other": "lifecycle transition other than start/complete",
    "status_repeat_merged": "state-log row repeating its ticket's state, merged into the stay",
}


MAX_EXAMPLES = 5


# --------------------------------------------------------------------------- report


@dataclass(frozen=True)
class LoadReport:
    """What a load read, kept and dropped, and why.

    Attributes
    ----------
    files : DataFrame
        One row per file: ``file``, ``format``, ``encoding``, ``delimiter``, ``sheet``,
        ``rows_read``, ``time_formats``.
    rows_read, rows_kept, rows_dropped : int
        ``rows_read == rows_kept + rows_dropped`` always.
    dropped : DataFrame
        ``reason``, ``rows``, ``description``, ``examples`` (up to five
        ``(file, line, value)`` tuples), one row per reason that occurred.
    conflicts : DataFrame
        Events exported twice with different values: ``case_id``, ``activity``,
        ``timestamp``, ``column``, ``kept_value``, ``kept_file``, ``dropped_value``,
        ``dropped_file``, ``dropped_line``.
    timezone : str
        The zone naive times were localised to and all times are expressed in.
    mapping : dict
        Canonical column -> source column, per file.
    notes : tuple of str
        Everything else the load decided that a user should know (mapped optional
        columns, merged status repeats, paired lifecycle rows ...).
    findings : DataFrame
        Quality findings only the load can see (they need the source order); merged
        into :func:`svcmining.check_quality`'s table.
    naive_as_utc : int
        Times without a UTC offset that were read as UTC because no zone was given
        (``timezone=`` or an SOP calendar); 0 when a zone was given.
    state_log : bool
        The export was read as a state log (status repeats merged).
    """

    files: pd.DataFrame
    rows_read: int
    rows_kept: int
    rows_dropped: int
    dropped: pd.DataFrame
    conflicts: pd.DataFrame
    timezone: str
    mapping: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    findings: pd.DataFrame = field(default_factory=pd.DataFrame)
    naive_as_utc: int = 0
    state_log: bool = False

    def dropped_by_reason(self) -> dict[str, int]:
        """``{reason: rows}`` for the reasons that occurred."""
        return {
            str(r): int(n)
            for r, n in zip(self.dropped["reason"], self.dropped["rows"], strict=True)
        }

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready summary (counts, files, reasons with examples, notes)."""
        return {
            "rows_read": self.rows_read,
            "rows_kept": self.rows_kept,
            "rows_dropped": self.rows_dropped,
            "timezone": self.timezone,
            "files": [
                {k: (v if not isinstance(v, np.integer) else int(v)) for k, v in rec.items()}
                for rec in self.files.to_dict("records")
            ],
            "dropped": {
                str(r["reason"]): {
                    "rows": int(r["rows"]),
                    "examples": [list(map(str, e)) for e in r["examples"]],
                }
                for r in self.dropped.to_dict("records")
            },
            "conflicts": len(self.conflicts),
            "naive_as_utc": self.naive_as_utc,
            "state_log": self.state_log,
            "notes": list(self.notes),
        }

    def to_text(self, *, max_files: int | None = None) -> str:
        """The report as plain text, for terminals and logs.

        ``max_files`` lists only the first files, then one line with the count of the rest.
        """
        lines = [
            f"Read {self.rows_read:,} rows from {len(self.files)} file(s); "
            f"kept {self.rows_kept:,} events, dropped {self.rows_dropped:,}.",
        ]
        shown = self.files if max_files is None else self.files.head(max_files)
        for rec in shown.to_dict("records"):
            enc = f", {rec['encoding']}" if rec.get("encoding") else ""
            fmts = f", times: {rec['time_formats']}" if rec.get("time_formats") else ""
            lines.append(f"  {rec['file']}: {rec['rows_read']:,} rows ({rec['format']}{enc}{fmts})")
        if len(shown) < len(self.files):
            rest = self.files.iloc[len(shown) :]
            kinds = ", ".join(f"{k} {n:,}" for k, n in rest["format"].value_counts().items())
            lines.append(
                f"  ... and {len(rest):,} more file(s), {int(rest['rows_read'].sum()):,} rows "
                f"({kinds})"
            )
        if len(self.dropped):
            lines.append("Dropped rows by reason:")
            for rec in self.dropped.to_dict("records"):
                ex = "; ".join(f"{f} line {ln}: {v!r}" for f, ln, v in rec["examples"][:3])
                lines.append(f"  {rec['reason']}: {rec['rows']:,} ({rec['description']}) e.g. {ex}")
        if len(self.conflicts):
            lines.append(
                f"Conflicting copies across exports: {len(self.conflicts):,} value(s) differ "
                "(newer export kept; see report.conflicts)."
            )
        lines.extend(f"Note: {n}" for n in self.notes)
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.to_text()

    def __repr__(self) -> str:
        reasons = ", ".join(f"{r} {n:,}" for r, n in list(self.dropped_by_reason().items())[:4])
        if len(self.dropped) > 4:
            reasons += f", … ({len(self.dropped) - 4} more)"
        return (
            f"LoadReport({len(self.files)} file(s), {self.rows_read:,} rows read, "
            f"{self.rows_kept:,} kept, {self.rows_dropped:,} dropped"
            + (f" ({reasons})" if reasons else "")
            + f", {len(self.conflicts):,} conflicts, {len(self.notes)} notes, {self.timezone})"
        )

    def _repr_html_(self) -> str:
        lines = self.to_text().splitlines()
        body = "".join(f"<li>{html.escape(line.strip())}</li>" for line in lines[:25])
        if len(lines) > 25:
            body += f"<li>… {len(lines) - 25:,} more lines (print the report for all)</li>"
        return f"<div><b>Load report</b><ul>{body}</ul></div>"


# --------------------------------------------------------------------------- canonical frame


class Drops:
    """Row accounting: counts and examples per drop reason."""

    def __init__(self) -> None:
        self.counts: dict[str, int] = {}
        self.examples: dict[str, list[tuple[str, int, str]]] = {}

    def add(
        self, reason: str, files: Sequence[str], lines: Sequence[int], values: Sequence[Any]
    ) -> None:
        n = len(lines)
        if not n:
            return
        self.counts[reason] = self.counts.get(reason, 0) + n
        ex = self.examples.setdefault(reason, [])
        for f, ln, v in zip(files, lines, values, strict=False):
            if len(ex) >= MAX_EXAMPLES:
                break
            ex.append((str(f), int(ln), "" if v is None or v is pd.NA else str(v)))

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def table(self) -> pd.DataFrame:
        order = [r for r in DROP_REASONS if r in self.counts]
        return pd.DataFrame(
            {
                "reason": order,
                "rows": [self.counts[r] for r in order],
                "description": [DROP_REASONS[r] for r in order],
                "examples": [self.examples.get(r, []) for r in order],
            }
        )
