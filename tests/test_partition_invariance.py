"""Any partitioning of a log by case gives the tables of pandas (svcmining.core).

Each analysis is a context, a kernel and a combine; the pandas function is the one-part
case. These tests cut random logs at random ticket boundaries and check that running the
same analysis over the parts -- directly with :func:`svcmining.core.run`, and through Dask
with :func:`svcmining.distributed.run` -- gives frames *identical* to the pandas function:
same rows in the same order, same dtypes, same values bit for bit (``check_exact``). No
tolerance is needed: every sum is taken over the rows in log order, as in pandas.
"""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import svcmining as svc
from svcmining.conformance import sop_check_analysis
from svcmining.core import run, split_by_case
from svcmining.discovery import DFGAnalysis, VariantsAnalysis
from svcmining.eventlog import TicketLog
from svcmining.handoffs import handoff_analysis
from svcmining.kpis import kpi_analysis, outcomes_analysis
from svcmining.rework import rework_analysis
from svcmining.states import ActivityStages, StagesAnalysis, activity_stages

SOP_FILE = Path(__file__).resolve().parents[1] / "sample_logs" / "sop_complaint.yaml"
ACTIVITIES = ["登记", "评估", "排障", "结单", "重新打开", "挂起", "Closed", "回访"]
GROUPS = ["客服中心", "售后部", "技术支持部", None]
CUSTOMERS = ["c1", "c2", "c3", None]


@st.composite
def logs(draw: Any) -> pd.DataFrame:
    """Small logs: ties in time, reopens, waits, missing groups, optional start times."""
    n_cases = draw(st.integers(1, 9))
    lifecycle = draw(st.booleans())
    rows = []
    customers = []
    for c in range(n_cases):
        customer = draw(st.sampled_from(CUSTOMERS))  # repeat contacts across tickets
        for _ in range(draw(st.integers(1, 7))):
            customers.append(customer)
            minute = draw(st.integers(0, 40))
            rows.append(
                (
                    f"T{draw(st.integers(0, 99)):02d}-{c}",
                    draw(st.sampled_from(ACTIVITIES)),
                    minute,
                    minute - draw(st.integers(0, 9)) if lifecycle else None,
                    draw(st.sampled_from(GROUPS)),
                    draw(st.sampled_from(["张", "李", "王"])),
                )
            )
    df = pd.DataFrame(
        rows, columns=["case_id", "activity", "minute", "start", "department", "resource"]
    )
    t0 = pd.Timestamp("2024-10-08 09:00", tz="Asia/Shanghai")
    df["timestamp"] = t0 + pd.to_timedelta(df["minute"] * 37, unit="min")
    if lifecycle:
        df["start_timestamp"] = t0 + pd.to_timedelta(df["start"] * 37, unit="min")
    df["customer_id"] = pd.Series(customers, dtype="str")  # as the loader gives it
    return df.drop(columns=["minute", "start"])


def _cut(log: TicketLog, data: st.DataObject) -> list[TicketLog]:
    """The log cut at random ticket boundaries (each part a log of whole tickets)."""
    starts = log.case_index()[1]
    cuts = data.draw(st.sets(st.integers(1, max(len(starts) - 1, 1)), max_size=6))
    chosen = sorted(int(starts[i]) for i in cuts if i < len(starts))
    bounds = [0, *chosen, len(log.events)]
    return [
        log.with_events(log.events.iloc[a:b].reset_index(drop=True))
        for a, b in itertools.pairwise(bounds)
    ]


def _same(a: Any, b: Any) -> None:
    """Equal results: frames identical (order, dtypes, exact values), other fields equal."""
    if isinstance(a, pd.DataFrame):
        pd.testing.assert_frame_equal(a, b, check_exact=True)
    elif isinstance(a, tuple):
        assert len(a) == len(b)
        for x, y in zip(a, b, strict=True):
            _same(x, y)
    elif isinstance(a, np.ndarray):
        np.testing.assert_array_equal(a, b)
    else:
        assert a == b or (a != a and b != b)


def _fields(result: Any) -> tuple[Any, ...]:
    """Every table and figure of a result, for :func:`_same` (a conformance summary
    without its ``seconds`` row: the time taken is no result)."""
    if isinstance(result, pd.DataFrame):
        if "metric" in result.columns and "seconds" in set(result["metric"]):
            return (result[result["metric"] != "seconds"].reset_index(drop=True),)
        return (result,)
    if isinstance(result, tuple):  # VariantTable
        return tuple(result)
    out: list[Any] = []
    for name in (n for n in vars(result) if not n.startswith("_")):
        value = getattr(result, name)
        out.extend(_fields(value) if hasattr(value, "__dataclass_fields__") else [value])
    return tuple(_fields(v)[0] if isinstance(v, pd.DataFrame) else v for v in out)


def _analyses(log: TicketLog) -> dict[str, Any]:
    cols = log.events.columns
    sop = svc.load_sop(SOP_FILE)
    return {
        "dfg": DFGAnalysis(),
        "variants": VariantsAnalysis(),
        "stages": StagesAnalysis(),
        "rework": rework_analysis(cols),
        "rework_sop": rework_analysis(cols, sop=sop),
        "rework_resource": rework_analysis(cols, group="resource", window=1),
        "handoffs": handoff_analysis(cols),
        "handoffs_pending": handoff_analysis(cols, include_pending=True),
        "handoffs_resource": handoff_analysis(cols, by="resource", cutoff="2024-10-09 12:00"),
        "check_sop": sop_check_analysis(sop, workers=1),
        "check_sop_replay": sop_check_analysis(sop, method="token_replay", workers=1),
        **_kpi_analyses(log, sop),
    }


def _kpi_analyses(log: TicketLog, sop: Any) -> dict[str, Any]:
    """case_outcomes and service_kpis, with and without the SOP (the analyses they consume
    computed once over the whole log, as the context hands them to every part)."""

    def whole(a: Any) -> Any:
        return run(a, [log])

    bench = (svc.StepBenchmark("排障", "30min", "10min"),)
    kpis, plain = kpi_analysis(log, whole, benchmarks=bench)
    kpis_sop, with_sop = kpi_analysis(log, whole, sop=sop, by="week", benchmarks=bench)
    lenient = svc.FCRDefinition(max_handoffs=1, allow_rework=True)
    return {
        "outcomes": outcomes_analysis(log, whole, repeat_within="1h", **plain)[0],
        "outcomes_sop": outcomes_analysis(log, whole, sop=sop, calendar=sop.calendar, **with_sop)[
            0
        ],
        "kpis": kpis,
        "kpis_sop_week": kpis_sop,
        "kpis_lenient": kpi_analysis(log, whole, fcr=lenient, by="none", **plain)[0],
    }


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(df=logs(), data=st.data())
def test_any_partitioning_equals_pandas(df: pd.DataFrame, data: st.DataObject) -> None:
    """Invariant: every analysis over any cut of the log into whole tickets equals pandas."""
    log = svc.as_ticket_log(df)
    parts = _cut(log, data)
    for name, analysis in _analyses(log).items():
        whole = run(analysis, [log])
        cut = run(analysis, parts)
        if name == "stages":
            assert whole == cut
            continue
        _same(_fields(whole), _fields(cut))


def test_pandas_functions_are_the_one_part_case(sample_dir: Any) -> None:
    """The public pandas functions return what the analyses return on one part."""
    log = svc.read_tickets(sample_dir, timezone="Asia/Shanghai")
    cols = log.events.columns
    _same(_fields(svc.discover_dfg(log)), _fields(run(DFGAnalysis(), [log])))
    _same(svc.variants(log), run(VariantsAnalysis(), [log]).table)
    _same(_fields(svc.find_rework(log)), _fields(run(rework_analysis(cols), [log])))
    _same(_fields(svc.handoff_delays(log)), _fields(run(handoff_analysis(cols), [log])))
    sop = svc.load_sop(SOP_FILE)
    checked = svc.check_sop(log, sop, progress=False)
    _same(_fields(checked), _fields(run(sop_check_analysis(sop), [log])))
    _same(_fields(checked), _fields(run(sop_check_analysis(sop), split_by_case(log, 4))))
    kpis = svc.service_kpis(log, sop=sop, conformance=checked)
    analysis = kpi_analysis(log, lambda a: run(a, [log]), sop=sop, **kpis.analyses)[0]
    for parts in ([log], split_by_case(log, 5)):
        got = run(analysis, parts)
        _same((kpis.table, kpis.cases), (got.table, got.cases))
    outcomes = outcomes_analysis(log, lambda a: run(a, [log]), sop=sop)[0]
    _same(svc.case_outcomes(log, sop=sop), run(outcomes, split_by_case(log, 3)))
    for n in (2, 3, 7):
        parts = split_by_case(log, n)
        assert len(parts) == n
        _same(_fields(svc.handoff_delays(log)), _fields(run(handoff_analysis(cols), parts)))


def test_stages_are_the_whole_logs() -> None:
    """Hand-computed: stages over two parts are the medians over the whole log."""
    ts = pd.date_range("2024-10-08 09:00", periods=5, freq="h", tz="Asia/Shanghai")
    df = pd.DataFrame(
        {"case_id": ["1", "1", "1", "2", "2"], "activity": list("abcba"), "timestamp": ts}
    )
    log = svc.as_ticket_log(df)
    # relative positions: case 1 a=0, b=0.5, c=1; case 2 b=0, a=1 -> a: 0.5, b: 0.25, c: 1
    stages = run(StagesAnalysis(), split_by_case(log, 2))
    assert stages == ActivityStages({"a": 0.5, "b": 0.25, "c": 1.0})
    codes, labels = log.codes("activity")
    expected = activity_stages(codes, labels, log.case_index()[1])
    assert [stages.stage_of(str(a)) for a in labels] == expected.tolist()


def test_pending_receiver_comes_from_the_whole_log() -> None:
    """A pending handoff waits for the group that follows in *other* parts of the log."""
    ts = pd.date_range("2024-10-08 09:00", periods=6, freq="h", tz="Asia/Shanghai")
    df = pd.DataFrame(
        {
            "case_id": ["1", "1", "1", "2", "2", "3"],
            "activity": ["登记", "派单", "结单", "登记", "派单", "登记"],
            "timestamp": ts,
            "department": ["客服", "客服", "售后", "客服", "客服", "客服"],
        }
    )
    log = svc.as_ticket_log(df)
    # ticket 2 is open after 派单 by 客服; in ticket 1, 派单 by 客服 is followed by 售后
    parts = split_by_case(log, 3)
    assert [p.n_cases for p in parts] == [1, 1, 1]
    result = run(handoff_analysis(log.events.columns), parts)
    whole = svc.handoff_delays(log)
    pend = whole.handoffs[whole.handoffs["pending"]]
    assert pend[["case_id", "from_group", "to_group"]].values.tolist() == [["2", "客服", "售后"]]
    assert pend["delay_hours"].tolist() == [1.0]  # 派单 at 13:00, cutoff 14:00
    assert result.handoffs["pending"].sum() == 1


def test_repeat_contact_across_parts() -> None:
    """Hand-computed: a customer's next ticket in another part makes a repeat contact."""
    ts = pd.to_datetime(
        ["2024-10-08 09:00", "2024-10-08 12:00", "2024-10-09 09:00", "2024-10-20 09:00"]
    ).tz_localize("Asia/Shanghai")
    df = pd.DataFrame(
        {
            "case_id": ["1", "1", "2", "3"],
            "activity": ["登记", "结单", "登记", "登记"],
            "timestamp": ts,
            "customer_id": ["c1", "c1", "c1", "c1"],
        }
    )
    log = svc.as_ticket_log(df)
    analysis = kpi_analysis(log, lambda a: run(a, [log]))[0]
    parts = split_by_case(log, 3)
    assert [p.n_cases for p in parts] == [1, 1, 1]
    kpis = run(analysis, parts)
    # ticket 2 opened 24 h after ticket 1 (within 7 days); ticket 3 eleven days after 2
    assert kpis.cases["repeat_contact"].tolist() == [True, False, False]
    # only ticket 1 is closed, and its customer came back: no first-contact resolution
    assert kpis.value("first_contact_resolution") == 0.0
    assert kpis.value("repeat_contact_rate") == pytest.approx(1 / 3)


dd = pytest.importorskip("dask.dataframe")
sd = pytest.importorskip("svcmining.distributed")


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(df=logs(), n=st.integers(1, 6))
def test_dask_any_partitioning_equals_pandas(df: pd.DataFrame, n: int) -> None:
    """Invariant: the Dask driver over n partitions gives the pandas tables, identical."""
    import dask

    log = svc.as_ticket_log(df)
    with dask.config.set(scheduler="synchronous"):
        dlog = sd.as_dask_log(log, npartitions=n)
        _same(_fields(svc.discover_dfg(log)), _fields(sd.discover_dfg(dlog)))
        _same(svc.variants(log), sd.variants(dlog))
        _same(_fields(svc.find_rework(log)), _fields(sd.find_rework(dlog)))
        sop = svc.load_sop(SOP_FILE)
        _same(
            _fields(svc.check_sop(log, sop, workers=1, progress=False)),
            _fields(sd.check_sop(dlog, sop)),
        )
        for kwargs in ({}, {"include_pending": True}, {"by": "resource"}):
            _same(
                _fields(svc.handoff_delays(log, **kwargs)),
                _fields(sd.handoff_delays(dlog, **kwargs)),
            )
        for kw in ({}, {"sop": sop, "by": "week", "repeat_within": "1h"}):
            k1, k2 = svc.service_kpis(log, **kw), sd.service_kpis(dlog, **kw)
            _same((k1.table, k1.cases), (k2.table, k2.cases))
            ko = {k: v for k, v in kw.items() if k != "by"}
            _same(svc.case_outcomes(log, **ko), sd.case_outcomes(dlog, **ko))
