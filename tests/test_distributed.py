"""Dask logs give the same numbers as pandas logs (svcmining.distributed)."""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import svcmining as svc
from svcmining.exceptions import InvalidParameterError, SchemaError

dd = pytest.importorskip("dask.dataframe")
distributed = pytest.importorskip("distributed")
sd = pytest.importorskip("svcmining.distributed")

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def dask_client():
    """A LocalCluster with 2 worker processes (the workers import svcmining from the repo)."""
    old = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = str(REPO) + (os.pathsep + old if old else "")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cluster = distributed.LocalCluster(
            n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None
        )
        client = distributed.Client(cluster)
    yield client
    client.close()
    cluster.close()
    if old is None:
        os.environ.pop("PYTHONPATH", None)
    else:
        os.environ["PYTHONPATH"] = old


def _same(a: pd.DataFrame, b: pd.DataFrame, keys: list[str]) -> None:
    a = a.sort_values(keys, ignore_index=True)
    b = b.sort_values(keys, ignore_index=True)
    assert list(a.columns) == list(b.columns)
    pd.testing.assert_frame_equal(a, b, check_dtype=False, rtol=1e-9, atol=1e-9)


def _compare_all(log, dlog, sop=None, *, kpis: bool = True) -> None:
    g1, g2 = svc.discover_dfg(log), sd.discover_dfg(dlog)
    assert (g1.n_cases, g1.n_events) == (g2.n_cases, g2.n_events)
    _same(g1.edges, g2.edges, ["source", "target"])
    _same(g1.activities, g2.activities, ["activity"])
    _same(g1.start_activities, g2.start_activities, ["activity"])
    _same(g1.end_activities, g2.end_activities, ["activity"])
    _same(svc.variants(log), sd.variants(dlog), ["variant_id"])
    r1, r2 = svc.find_rework(log), sd.find_rework(dlog)
    _same(r1.occurrences, r2.occurrences, ["event_index", "kind"])
    _same(r1.cases, r2.cases, ["case_id"])
    _same(r1.by_activity, r2.by_activity, ["activity"])
    _same(r1.by_department, r2.by_department, [r1.group])
    _same(r1.by_resource, r2.by_resource, ["resource"])
    _same(r1.referrals, r2.referrals, list(r1.referrals.columns[:4]))
    h1, h2 = svc.handoff_delays(log), sd.handoff_delays(dlog)
    _same(h1.handoffs, h2.handoffs, ["case_id", "left_at", "from_group", "to_group", "pending"])
    _same(h1.cases, h2.cases, ["case_id"])
    _same(h1.matrix, h2.matrix, ["from_group", "to_group"])
    _same(h1.summary, h2.summary, ["metric", "detail"])
    if sop is None:
        return
    c1, c2 = svc.check_sop(log, sop, progress=False), sd.check_sop(dlog, sop)
    _same(c1.cases, c2.cases, ["case_id"])
    _same(c1.deviations, c2.deviations, ["case_id", "type", "position", "sla"])
    _same(c1.steps, c2.steps, ["step"])
    _same(c1.slas, c2.slas, ["case_id", "sla"])
    _same(c1.sla_attainment, c2.sla_attainment, ["sla", "priority"])
    _same(c1.comparison.edges, c2.comparison.edges, ["source", "target"])
    s1 = c1.summary.set_index("metric")["value"].drop("seconds")
    s2 = c2.summary.set_index("metric")["value"].drop("seconds")
    pd.testing.assert_series_equal(s1, s2, rtol=1e-9)
    if not kpis:
        return
    k1 = svc.service_kpis(log, sop=sop, conformance=c1)
    k2 = sd.service_kpis(dlog, sop=sop)
    _same(k1.table, k2.table, ["period", "kpi", "detail"])
    _same(k1.cases, k2.cases, ["case_id"])


def _tiny() -> pd.DataFrame:
    ts = pd.to_datetime(
        [
            "2024-10-08 09:00",
            "2024-10-08 10:00",
            "2024-10-08 13:00",
            "2024-10-08 09:00",
            "2024-10-08 09:30",
            "2024-10-09 09:00",
            "2024-10-09 12:00",
        ]
    ).tz_localize("Asia/Shanghai")
    return pd.DataFrame(
        {
            "case_id": ["A", "A", "A", "B", "B", "C", "C"],
            "activity": ["登记", "评估", "结单", "登记", "结单", "登记", "结单"],
            "timestamp": ts,
            "resource": ["张", "李", "张", "张", "张", "王", "王"],
            "department": [
                "客服中心",
                "售后部",
                "客服中心",
                "客服中心",
                "客服中心",
                "客服中心",
                "客服中心",
            ],
        }
    )


def test_partitions_hold_whole_cases():
    """Cutting a pandas log never splits a ticket, and more partitions than tickets is fine."""
    for n in (1, 2, 3, 5):
        dlog = sd.as_dask_log(_tiny(), npartitions=n)
        parts = [p.compute() for p in dlog.events.to_delayed()]
        ids = [set(p["case_id"]) for p in parts if len(p)]
        assert sum(len(s) for s in ids) == 3
        assert sum(len(p) for p in parts) == 7


def test_tiny_dfg_hand_computed():
    """Edge counts and exact p50 wait on a hand-made log split into 3 partitions."""
    g = sd.discover_dfg(sd.as_dask_log(_tiny(), npartitions=3))
    e = g.edges.set_index(["source", "target"])
    assert int(e.loc[("登记", "结单"), "count"]) == 2
    assert e.loc[("登记", "结单"), "wait_p50_hours"] == pytest.approx((0.5 + 3.0) / 2)
    assert int(e.loc[("登记", "评估"), "cases"]) == 1
    assert g.n_cases == 3


def test_bad_options():
    """Invalid npartitions, engine and inputs raise our errors."""
    with pytest.raises(InvalidParameterError, match="npartitions"):
        sd.as_dask_log(_tiny(), npartitions=0)
    with pytest.raises(InvalidParameterError, match="engine"):
        svc.read_tickets(REPO / "sample_logs", engine="spark")
    with pytest.raises(SchemaError):
        sd.discover_dfg([1, 2, 3])
    with pytest.raises(SchemaError, match="case_id"):
        sd.as_dask_log(dd.from_pandas(_tiny().drop(columns="case_id"), npartitions=2))


def test_sample_logs_equal_pandas(dask_client, sample_dir):
    """read_tickets(engine='dask') on sample_logs: same report; every analysis equals pandas."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        log = svc.read_tickets(sample_dir, timezone="Asia/Shanghai")
        dlog = svc.read_tickets(sample_dir, timezone="Asia/Shanghai", engine="dask")
    assert isinstance(dlog, sd.DaskTicketLog)
    assert str(dlog.report) == str(log.report)
    dlog = sd.as_dask_log(log, npartitions=3).persist()
    pd.testing.assert_frame_equal(dlog.compute().events, log.events)
    _compare_all(log, dlog, svc.load_sop(sample_dir / "sop_complaint.yaml"))


def test_users_dask_frame_shuffled(dask_client, sample_dir):
    """A user's own dask DataFrame (rows shuffled, hash-partitioned) gives the pandas numbers."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        log = svc.read_tickets(sample_dir, timezone="Asia/Shanghai")
    ev = log.events
    ev = ev[ev["case_id"].isin(ev["case_id"].unique()[:1500])]
    shuffled = ev.sample(frac=1.0, random_state=7).reset_index(drop=True)
    ddf = dd.from_pandas(shuffled, npartitions=4)
    dlog = sd.as_dask_log(ddf)
    expected = svc.as_ticket_log(shuffled)  # pandas sorts it: equal times keep input order
    pd.testing.assert_frame_equal(dlog.compute().events, expected.events)
    g1, g2 = svc.discover_dfg(expected), sd.discover_dfg(dlog)
    _same(g1.edges, g2.edges, ["source", "target"])
    _same(svc.variants(expected), sd.variants(dlog), ["variant_id"])
    k1 = svc.service_kpis(expected, benchmarks=[svc.StepBenchmark("远程排障", 4, 1)])
    k2 = sd.service_kpis(dlog, benchmarks=[svc.StepBenchmark("远程排障", 4, 1)])
    _same(k1.table, k2.table, ["period", "kpi", "detail"])


@pytest.mark.real_logs
def test_bpic2013_incidents_equal_pandas(dask_client, incidents_log):
    """BPIC 2013 incidents on 2 worker processes: DFG, variants, rework, handoffs equal pandas."""
    dlog = sd.as_dask_log(incidents_log, npartitions=4).persist()
    sop = svc.load_sop(REPO / "sample_logs" / "sop_bpic2013_incidents.yaml")
    _compare_all(incidents_log, dlog, sop, kpis=False)
    assert np.isclose(
        sd.discover_dfg(dlog).edges["wait_p90_hours"].sum(),
        svc.discover_dfg(incidents_log).edges["wait_p90_hours"].sum(),
    )


@st.composite
def _logs(draw):
    n_cases = draw(st.integers(1, 8))
    rows = []
    for c in range(n_cases):
        for _ in range(draw(st.integers(1, 6))):
            rows.append(
                (
                    f"T{c:02d}",
                    draw(st.sampled_from(["登记", "评估", "排障", "结单", "重新打开"])),
                    draw(st.integers(0, 50)),
                    draw(st.sampled_from(["客服中心", "售后部", "技术支持部"])),
                    draw(st.sampled_from(["张", "李"])),
                )
            )
    df = pd.DataFrame(rows, columns=["case_id", "activity", "minute", "department", "resource"])
    df["timestamp"] = pd.Timestamp("2024-10-08 09:00", tz="Asia/Shanghai") + pd.to_timedelta(
        df["minute"] * 7, unit="min"
    )
    return df.drop(columns="minute")


@settings(max_examples=20, deadline=None)
@given(df=_logs(), n=st.integers(1, 5))
def test_any_partitioning_equals_pandas(df, n):
    """Invariant: however the tickets are cut into partitions, the results equal pandas."""
    import dask

    log = svc.as_ticket_log(df)
    with dask.config.set(scheduler="synchronous"):
        dlog = sd.as_dask_log(log, npartitions=n)
        g1, g2 = svc.discover_dfg(log), sd.discover_dfg(dlog)
        _same(g1.edges, g2.edges, ["source", "target"])
        _same(g1.activities, g2.activities, ["activity"])
        _same(svc.variants(log), sd.variants(dlog), ["variant_id"])
        r1, r2 = svc.find_rework(log), sd.find_rework(dlog)
        _same(r1.occurrences, r2.occurrences, ["event_index", "kind"])
        _same(r1.by_activity, r2.by_activity, ["activity"])
        h1, h2 = svc.handoff_delays(log), sd.handoff_delays(dlog)
        # pending handoffs and ping-pong too: their receivers and stages are the whole log's
        _same(h1.handoffs, h2.handoffs, ["case_id", "left_at", "from_group", "to_group"])
        _same(h1.matrix, h2.matrix, ["from_group", "to_group"])
        _same(h1.cases, h2.cases, ["case_id"])
