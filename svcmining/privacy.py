"""Pseudonymise personal data before a log or a report leaves the team.

Which columns are personal data? In a ticket export: ``customer_id`` (and any customer
name, phone or address column), ``resource`` (staff names or ids: personal data of the
employees), and free-text columns such as remarks (备注), which often contain names and
phone numbers. ``case_id`` is usually not personal by itself but can be joined back to
the ticket system; pseudonymise it too when the report goes outside the organisation.

:func:`pseudonymize` replaces each value with a keyed hash (HMAC-SHA256 with your
``salt``): the same value gives the same pseudonym in every run and every file, so
analyses (repeat contacts, rework by the same resource) give the same figures, but
the original cannot be looked up without the salt. Keep the salt secret and the same
across the months you want to compare.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence

import pandas as pd

from .eventlog import LogLike, TicketLog, as_events, sort_events
from .exceptions import InvalidParameterError, SchemaError

__all__ = ["PERSONAL_COLUMNS", "pseudonymize"]

PERSONAL_COLUMNS: tuple[str, ...] = ("customer_id", "resource")


def _pseudonym(salt: bytes, prefix: str, value: str, length: int) -> str:
    digest = hmac.new(salt, value.encode("utf-8"), hashlib.sha256).hexdigest()
    return f"{prefix}{digest[:length]}"


def pseudonymize(
    log: LogLike,
    *,
    salt: str,
    columns: Sequence[str] = PERSONAL_COLUMNS,
    drop_columns: Sequence[str] = (),
    length: int = 12,
) -> TicketLog:
    """Replace identifying values with stable salted hashes.

    Parameters
    ----------
    log : TicketLog or DataFrame
        The event log (not modified).
    salt : str
        Secret key of the hash; the same salt gives the same pseudonyms.
    columns : sequence of str
        Columns to pseudonymise (default ``customer_id`` and ``resource``, where present;
        a column named explicitly must exist). Missing values stay missing.
    drop_columns : sequence of str
        Columns to remove entirely (e.g. free-text remarks).
    length : int
        Hex digits kept from each hash (8 to 64).

    Returns
    -------
    TicketLog
        A new log; the load report is kept (it holds file names and counts, and the
        examples of dropped rows, which are cleared here since they may hold raw values).

    Examples
    --------
    >>> import pandas as pd
    >>> ev = pd.DataFrame({"case_id": ["1"], "activity": ["登记"], "customer_id": ["王先生"],
    ...     "timestamp": pd.to_datetime(["2024-10-01 09:00"]).tz_localize("Asia/Shanghai")})
    >>> pseudonymize(ev, salt="s3cret").events["customer_id"].iloc[0]
    'customer_id-2d99be811cb1'
    """
    if not isinstance(salt, str) or not salt:
        raise InvalidParameterError(
            "The 'salt' parameter of pseudonymize must be a non-empty secret string "
            "(the same salt gives the same pseudonyms run after run)."
        )
    if not 8 <= int(length) <= 64:
        raise InvalidParameterError(
            "The 'length' parameter of pseudonymize must be between 8 and 64. "
            f"Got {length!r} instead."
        )
    events = as_events(log)
    # the default columns are optional; columns named by the caller must exist
    required = [*drop_columns, *(columns if tuple(columns) != PERSONAL_COLUMNS else ())]
    missing = [c for c in required if c not in events.columns]
    if missing:
        raise SchemaError(
            f"pseudonymize: no column {', '.join(map(repr, missing))} in the log "
            f"(columns: {', '.join(map(str, events.columns))})."
        )
    todo = [c for c in columns if c in events.columns]
    key = salt.encode("utf-8")
    out = events.drop(columns=list(drop_columns))
    for col in todo:
        codes, uniques = pd.factorize(out[col])
        names = pd.Index([_pseudonym(key, f"{col}-", str(u), int(length)) for u in uniques])
        mapped = pd.Series(names.take(codes.clip(min=0)), index=out.index, dtype="str")
        out[col] = mapped.where(codes >= 0)
    if "case_id" in todo:
        out = sort_events(out)
    report = log.report if isinstance(log, TicketLog) else None
    if report is not None:
        from dataclasses import replace

        dropped = report.dropped.assign(examples=[[] for _ in range(len(report.dropped))])
        report = replace(report, dropped=dropped, conflicts=report.conflicts.iloc[0:0])
    mapping = dict(log.mapping) if isinstance(log, TicketLog) else {}
    return TicketLog(events=out, report=report, mapping=mapping)
