"""The report as a story a manager reads: section order, the opening sentence of each
section computed from the data, readable tables (human column names, percentages, every
row) and the two languages (API and ``--lang``)."""

from __future__ import annotations

import base64
import html
import re

import pandas as pd
import pytest

import svcmining.report as rp
from svcmining._reportcolumns import column_label, format_value, kpi_label, value_label
from svcmining._reportparts import HUGE_ROWS, table_html
from svcmining._reporttext import (
    full_months,
    handoffs_sentence,
    kpi_month_table,
    kpis_sentence,
    month_change,
    pain_point_advice,
    sla_month_change,
)
from svcmining.cli import main
from svcmining.exceptions import InvalidParameterError

#: (case, [(activity, department, hours after the ticket's start)]); English labels.
TICKETS = {
    "C1": [("open", "Desk", 0), ("check", "Field", 2), ("fix", "Desk", 3), ("close", "Desk", 4)],
    "C2": [("open", "Desk", 0), ("check", "Field", 5), ("repair", "Lab", 6), ("close", "Lab", 7)],
    "C3": [("open", "Desk", 0), ("repair", "Lab", 4), ("close", "Lab", 5)],
}

IDENTIFIERS = ("_hours", "n_cases", "share_of", "_rate", "cases_with", "wait_p50", "_id")


def handoff_log() -> pd.DataFrame:
    """Three closed tickets over three departments: Desk → Field costs 7 of 13 handoff hours."""
    rows = []
    for i, (case, steps) in enumerate(TICKETS.items()):
        t0 = pd.Timestamp("2024-10-08 09:00", tz="Asia/Shanghai") + pd.Timedelta(days=i)
        for act, dept, h in steps:
            rows.append(
                {
                    "case_id": case,
                    "activity": act,
                    "timestamp": t0 + pd.Timedelta(hours=h),
                    "resource": f"r{h}",
                    "department": dept,
                }
            )
    df = pd.DataFrame(rows)
    df["timestamp"] = df["timestamp"].astype("datetime64[ns, Asia/Shanghai]")
    return df


@pytest.fixture(scope="module")
def en_report():
    """The full report of the handoff log (English labels: English by default)."""
    return rp.build_report(handoff_log(), calendar="none")


def _lead(section_html: str) -> str:
    return html.unescape(re.search(r'<p class="lead">(.*?)</p>', section_html).group(1))


def _headers(page: str) -> list[str]:
    return [html.unescape(h) for h in re.findall(r"<th[^>]*>(.*?)</th>", page)]


def test_sections_follow_the_story(en_report):
    """Pain points first, then map, variants, rework, handoffs, SOP, KPIs, data quality last."""
    story = ["pain_points", "process_map", "variants", "rework", "handoffs"]
    story += ["conformance", "kpis", "quality"]
    assert list(rp.REPORT_SECTIONS)[: len(story)] == story
    assert [s.key for s in en_report.sections] == list(rp.REPORT_SECTIONS)
    page = en_report.to_html()
    where = [page.index('<section id="key_figures">')]
    where += [page.index(f'<section id="{k}">') for k in story]
    assert where == sorted(where)


def test_handoff_sentence_equals_an_independent_computation(en_report):
    """The handoffs section opens with the pair that loses most hours, as pandas computes
    it by hand: a handoff loses its delay beyond the median delay of the *other* groups'
    handoffs into the same step (all handoffs into the step when nobody else hands over)."""
    ev = handoff_log().sort_values(["case_id", "timestamp"])
    nxt = ev.groupby("case_id").shift(-1)
    moved = nxt["department"].notna() & (nxt["department"] != ev["department"])
    ho = pd.DataFrame(
        {
            "case": ev["case_id"][moved],
            "giver": ev["department"][moved],
            "pair": ev["department"][moved] + " → " + nxt["department"][moved],
            "into": nxt["activity"][moved],
            "hours": (nxt["timestamp"] - ev["timestamp"])[moved].dt.total_seconds() / 3600,
        }
    )

    def target(row: pd.Series) -> float:
        same_step = ho[ho["into"] == row["into"]]
        others = same_step[same_step["giver"] != row["giver"]]
        return float((others if len(others) else same_step)["hours"].median())

    ho["lost"] = (ho["hours"] - ho.apply(target, axis=1)).clip(lower=0)
    agg = ho.groupby("pair").agg(lost=("lost", "sum"), cases=("case", "nunique"))
    top = agg["lost"].idxmax()
    expected = (
        f"{top} is the costliest handoff: {agg.loc[top, 'cases']:,} tickets, "
        f"{agg.loc[top, 'lost']:,.0f} h lost, "
        f"{agg.loc[top, 'lost'] / agg['lost'].sum() * 100:.1f}% of all hours lost at handoffs."
    )
    # into "repair" Desk waits 4 h where Field takes 1 h: 3 of the 4.5 hours lost
    assert expected == (
        "Desk → Lab is the costliest handoff: 1 tickets, 3 h lost, "
        "66.7% of all hours lost at handoffs."
    )
    assert _lead(en_report.section("handoffs").body) == expected


def test_handoff_sentence_in_chinese():
    """The same finding in Chinese, with the same figures."""
    m = pd.DataFrame(
        {
            "pair": ["销售部 → 售后部", "客服中心 → 售后部"],
            "cases": [1234, 10],
            "hours_lost": [12877.0, 100.0],
            "delay_total_hours": [20000.0, 30000.0],
        }
    )
    assert handoffs_sentence(m, "zh") == (
        "销售部 → 售后部 是代价最高的交接：1,234 张工单，损失 12,877 小时，"
        "占全部交接损失工时的 99.2%。"
    )
    m = m.drop(columns="hours_lost")  # a result without hours lost: the waiting hours
    assert handoffs_sentence(m, "en") == (
        "客服中心 → 售后部 is the costliest handoff: 10 tickets, 30,000 h of delay, "
        "60.0% of all handoff delay."
    )


def test_every_section_opens_with_a_sentence(en_report):
    """Each built section starts with one sentence stating its finding."""
    for s in en_report.sections:
        if s.status == "ok" and s.key != "glossary":  # the glossary defines, it finds nothing
            assert s.body.startswith('<p class="lead">'), s.key
    assert _lead(en_report.section("variants").body) == (
        "3 distinct paths; the most frequent is taken by 33.3% of tickets, "
        "the 3 most frequent by 100.0%."
    )


def test_no_identifier_column_names(en_report):
    """Table headers are words with units, never the analyses' identifiers."""
    headers = _headers(en_report.to_html())
    assert headers
    for h in headers:
        assert "_" not in h, h
        assert not any(i in h for i in IDENTIFIERS), h
    assert "Median wait (h)" in headers and "Share of tickets" in headers


def test_percentages_are_percentages(en_report):
    """Shares show as 33.3%, never as 0.333."""
    body = en_report.section("variants").body
    assert body.count(">33.3%<") == 4 and "0.333" not in body  # 3 shares, 1 cumulative
    assert format_value(0.0471, "percent") == "4.7%"
    assert format_value(1234567.0, "hours") == "1,234,567.0"
    assert format_value(1234567, "count") == "1,234,567"


def test_catalog_labels_in_both_languages():
    """The catalog gives the header with its unit in English and Chinese."""
    assert column_label("delay_total_hours", "en") == "Handoff waiting hours (h)"
    assert column_label("delay_total_hours", "zh") == "交接等待工时 (小时)"
    assert column_label("share_of_lost", "zh") == "占全部损失工时"
    assert column_label("some_new_hours", "en") == "Some new (h)"  # not in the catalog
    assert value_label("ping_pong", "en") == "ping-pong"
    assert value_label("unknown_activity", "zh") == "未知环节"  # the glossary's term
    sla = pd.DataFrame({"sla": ["s1", "s1"], "priority": ["高", "all"], "met": [1, 2]})
    assert ">全部<" in table_html(sla, lang="zh") and ">高<" in table_html(sla, lang="zh")
    assert value_label("repeated_step: accept", "zh") == "重复环节: accept"
    assert value_label("销售部", "zh") == "销售部"  # data labels stay
    assert kpi_label("cycle_hours_p50", "en") == "Median cycle time (h)"


def test_long_table_is_complete_and_collapsed():
    """A 40-row table has all 40 rows: 15 visible, 25 behind "show all"."""
    out = table_html(pd.DataFrame({"cases": range(1000, 1040)}), lang="en")
    first, rest = out.split('<tbody class="rest">')
    assert first.count("<td") == 15 and rest.count("<td") == 25
    assert [v.replace(",", "") for v in re.findall(r">([\d,]+)</td>", out)] == [
        str(v) for v in range(1000, 1040)
    ]
    assert "<details" in out and "show all 40 rows (25 more)" in out
    assert '<span class="less">show fewer rows</span>' in out  # shown when open (CSS)


def test_huge_table_offers_the_whole_csv():
    """Over 2,000 rows: the first 2,000 in the page, all rows in a CSV link, and it says so."""
    df = pd.DataFrame({"case_id": [f"T{i}" for i in range(HUGE_ROWS + 500)], "cases": 1})
    out = table_html(df, lang="en")
    assert out.count("<tr>") == HUGE_ROWS + 1
    assert "This table has 2,500 rows; the page shows the first 2,000" in out
    assert "show the first 2,000 rows (1,985 more)" in out
    uri = re.search(r'href="data:text/csv;charset=utf-8;base64,([^"]+)"', out).group(1)
    lines = base64.b64decode(uri).decode("utf-8-sig").splitlines()
    assert lines[0] == "Ticket,Tickets" and len(lines) == HUGE_ROWS + 501
    assert lines[-1] == "T2499,1"


def test_lang_zh_and_en_headings():
    """lang="zh" writes Chinese headings and columns, lang="en" English; <html lang> follows."""
    zh = rp.build_report(handoff_log(), sections=["variants", "quality"], lang="zh")
    en = rp.build_report(handoff_log(), sections=["variants", "quality"], lang="en")
    zh_page, en_page = zh.to_html(), en.to_html()
    assert '<html lang="zh">' in zh_page and '<html lang="en">' in en_page
    assert "<h2>流程变体</h2>" in zh_page and "<h2>Variants</h2>" in en_page
    assert "<h2>附录：数据质量与加载报告</h2>" in zh_page
    assert "工单数" in _headers(zh_page) and "Tickets" in _headers(en_page)
    assert zh.lang == "zh" and en.lang == "en"


def test_default_language_from_the_labels():
    """English labels give an English report, Chinese labels a Chinese one."""
    assert rp.build_report(handoff_log(), sections=["variants"]).lang == "en"
    zh_log = handoff_log().assign(
        activity=lambda d: d["activity"].map(
            {
                "open": "投诉登记",
                "check": "售后评估",
                "fix": "远程排障",
                "repair": "上门维修",
                "close": "结单",
            }
        )
    )
    rep = rp.build_report(zh_log, sections=["variants"])
    assert rep.lang == "zh" and rep.title == "服务流程报告"


def test_bad_lang_is_refused():
    """lang must be "en", "zh" or None."""
    with pytest.raises(InvalidParameterError, match="'lang' parameter of build_report"):
        rp.build_report(handoff_log(), lang="fr")


def test_full_months():
    """Only months covered from their first to their last day count as full."""
    ts = pd.Series(pd.to_datetime(["2024-10-01 08:00", "2024-12-15 10:00"])).dt.tz_localize(
        "Asia/Shanghai"
    )
    assert full_months(ts) == ["2024-10", "2024-11"]
    ts = pd.Series(pd.to_datetime(["2024-10-08 08:00", "2024-11-04 00:00"])).dt.tz_localize("UTC")
    assert full_months(ts) == []


class FakeKPIs:
    """A service-KPI result with two months of values."""

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "period": ["2024-10", "2024-11"] * 3 + ["2024-10"],
                "kpi": ["deviation_rate"] * 2
                + ["cycle_hours_p50"] * 2
                + ["cases_opened"] * 2
                + ["stage_hours_p50"],
                "detail": [""] * 6 + ["accept"],
                "value": [0.5, 0.4, 20.0, 25.0, 100, 80, 3.0],
            }
        )


def test_month_over_month_notes():
    """The tiles' notes: last full month, its value and the change from the one before."""
    k, months = FakeKPIs(), ["2024-10", "2024-11"]
    assert month_change(k, "deviation_rate", months, "en") == "2024-11: 40.0% (−10.0 pp vs 2024-10)"
    assert month_change(k, "cycle_hours_p50", months, "zh") == "2024-11：25.0（较 2024-10 +25.0%）"
    assert month_change(k, "cases_opened", months, "en") == "2024-11: 80 (−20.0% vs 2024-10)"
    assert month_change(k, "cases_opened", months[:1], "en") == ""
    assert kpis_sentence(k, months, "cycle_hours_p50", "en") == (
        "2024-10 → 2024-11, the last two full months: Median cycle time (h) 20.0 → 25.0; "
        "Tickets deviating from the SOP 50.0% → 40.0%."
    )


def test_months_note_says_when_there_is_no_change(en_report):
    """With less than two full months the key figures say there is no change to show."""
    page = en_report.to_html()
    assert "The data does not cover two full months: no month-over-month change." in page


def test_pain_point_advice():
    """Each pain point gets the KPI it hurts and a first check, by its kind."""
    t = pd.DataFrame({"pain_point": ["A → B", "reopen: 结单"], "kind": ["handoff", "rework"]})
    out = pain_point_advice(t, "en")
    assert out["kpi_hurt"].tolist() == ["handoff share, cycle time", "rework rate, cycle time"]
    assert (
        out["first_check"].tolist()[1]
        == "Open the example tickets: why was reopen: 结单 done again?"
    )


def test_cli_lang(tmp_path, capsys):
    """svcmining report --lang zh / en writes the report in that language."""
    csv = tmp_path / "log.csv"
    handoff_log().to_csv(csv, index=False)
    for lang, heading in (("zh", "<h2>流程变体</h2>"), ("en", "<h2>Variants</h2>")):
        out = tmp_path / f"{lang}.html"
        code = main(
            ["report", str(csv), "--timezone", "Asia/Shanghai", "--lang", lang, "--out", str(out)]
        )
        assert code == 0, capsys.readouterr().err
        page = out.read_text(encoding="utf-8")
        assert heading in page and f'<html lang="{lang}">' in page
    assert main(["report", str(csv), "--lang", "fr"]) == 2  # bad input
    assert "invalid choice: 'fr'" in capsys.readouterr().err


def test_kpi_table_in_words():
    """The KPI table: KPI names in words, values written by kind, SOP steps by their names."""
    table = kpi_month_table(FakeKPIs(), "en", {"accept": "客户验收"})
    assert list(table.columns) == ["kpi", "detail", "2024-10", "2024-11"]
    assert table.values.tolist() == [
        ["Tickets deviating from the SOP", "", "50.0%", "40.0%"],
        ["Median cycle time (h)", "", "20.0", "25.0"],
        ["Tickets opened", "", "100", "80"],
        ["Median time in step (h)", "客户验收", "3.0", ""],
    ]


def test_written_numbers_align_right():
    """Numbers already written as text ("1,234", "4.7%") align right; a delimiter "," does not."""
    out = table_html(pd.DataFrame({"delimiter": [",", ";"], "v": ["1,234", "4.7%"]}))
    assert '<th class="">Delimiter</th><th class="num">V</th>' in out
    assert '<td class="nw">,</td><td class="num">1,234</td>' in out


def test_sla_attainment_month_over_month():
    """The SLA tile's note: met / (met + breached) of the tickets opened in each month."""
    opened = {"a": "2024-10-05", "b": "2024-10-20", "c": "2024-11-03", "d": "2024-11-10"}
    events = pd.DataFrame(
        {"case_id": list(opened), "timestamp": pd.to_datetime(list(opened.values()))}
    )
    slas = pd.DataFrame(
        {
            "case_id": ["a", "a", "b", "c", "c", "d"],
            "status": ["met", "breached", "met", "breached", "censored", "met"],
        }
    )
    # October 2 of 3 met, November 1 of 2 (the censored one is not decided yet)
    note = sla_month_change(slas, events, ["2024-10", "2024-11"], "en")
    assert note == "2024-11: 50.0% (−16.7 pp vs 2024-10)"
    assert sla_month_change(slas, events, ["2024-11"], "en") == ""


def test_deviation_pain_points_name_the_step():
    """A deviation pain point shows its SOP step by display name; other kinds stay as they are."""
    import svcmining._reportsections as sections
    from svcmining.sop import sop_from_dict

    sop = sop_from_dict(
        {
            "name": "s",
            "steps": [
                {"id": "accept", "labels": ["客户验收"]},
                {"id": "close", "labels": ["结单"]},
            ],
            "flow": ["accept", "close"],
        }
    )
    ctx = sections.Ctx(None, None, sop, None, {}, 10, False, None, lang="zh")  # type: ignore[arg-type]
    table = pd.DataFrame(
        {"pain_point": ["repeated_step: accept", "reopen: accept"], "kind": ["deviation", "rework"]}
    )
    shown = sections._named_pain_points(ctx, table)["pain_point"].tolist()
    assert shown == ["repeated_step: 客户验收", "reopen: accept"]


def test_pain_point_evidence_in_the_reports_language(sample_dir):
    """The pain-point evidence sentence is written in the report's language from the
    table's own columns (exact text on one row), and a zh report has no English one."""
    import svcmining as svc
    from svcmining._painpoints import evidence

    row = pd.DataFrame(
        {
            "cases": [3],
            "cases_all": [10],
            "occurrences": [4],
            "occurrences_all": [12],
            "baseline_hours": [2.0],
            "p50_hours": [5.25],
            "p90_hours": [9.0],
        }
    )
    assert evidence(row) == [
        "3 of 10 tickets (4 of 12 occurrences) over 2.00 h; median 5.2 h, p90 9.0 h"
    ]
    assert evidence(row, "zh") == [
        "10 张工单中 3 张（12 次中 4 次）超过 2.00 小时；中位数 5.2 小时，p90 9.0 小时"
    ]
    log = svc.read_tickets(sample_dir / "工单导出_2024-10.csv", timezone="Asia/Shanghai")
    pp = svc.pain_points(log, sop=sample_dir / "sop_complaint.yaml")
    t = pp.table
    assert (t["cases"] <= t["cases_all"]).all() and (t["occurrences"] <= t["occurrences_all"]).all()
    assert list(t["evidence"]) == evidence(t)
    rep = rp.build_report(
        log,
        sop=sample_dir / "sop_complaint.yaml",
        sections=["pain_points"],
        lang="zh",
        interactive=False,
    )
    body = rep.section("pain_points").body
    assert "张工单中" in body and " tickets (" not in body
