"""The report's charts in its two languages: the rework chart, the process map and the
pain-point map write their titles, axis labels, legends and notes in ``lang`` (data labels
stay as they are), and no two of their texts overlap on the sample exports."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import pandas as pd
import pytest
from _overlap import overlapping_texts

import svcmining as svc
from svcmining import find_rework, plot_process_map
from svcmining._chartwords import REWORK_KIND_NAMES, rework_kind_name
from svcmining._glossary import ENTRIES
from svcmining.exceptions import InvalidParameterError

TZ = "Asia/Shanghai"


def _log() -> pd.DataFrame:
    """Three tickets, one event per hour: A1 has a ping-pong (评估: 售后部 → 销售部 →
    售后部, 2 h) and a self-loop (排障 twice, 1 h), B2 a reopen cycle (3 h)."""
    rows = [
        ("A1", "登记", "a", "客服中心"),
        ("A1", "评估", "x", "售后部"),
        ("A1", "核实", "y", "销售部"),
        ("A1", "评估", "x", "售后部"),
        ("A1", "排障", "t", "技术支持部"),
        ("A1", "排障", "t", "技术支持部"),
        ("A1", "结单", "a", "客服中心"),
        ("B2", "登记", "a", "客服中心"),
        ("B2", "排障", "t", "技术支持部"),
        ("B2", "结单", "a", "客服中心"),
        ("B2", "重新打开", "a", "客服中心"),
        ("B2", "排障", "u", "技术支持部"),
        ("B2", "结单", "a", "客服中心"),
        ("C3", "登记", "a", "客服中心"),
        ("C3", "结单", "a", "客服中心"),
    ]
    df = pd.DataFrame(rows, columns=["case_id", "activity", "resource", "department"])
    df["timestamp"] = pd.date_range("2024-10-08 09:00", periods=len(rows), freq="h", tz=TZ)
    return df


def _words(text: str) -> str:
    """The text without its line breaks and spaces (legends are wrapped to the width)."""
    return "".join(text.split())


# --------------------------------------------------------------------------- rework chart


def test_rework_chart_in_english_and_chinese():
    """ReworkResult.plot writes title, axes and legend in lang; kinds by display name."""
    rw = find_rework(_log())
    fig = rw.plot(lang="en")
    ax = fig.axes[0]
    assert ax.get_title() == "Rework by department and kind"
    assert ax.get_xlabel() == "hours lost to rework"
    assert ax.get_ylabel() == "department"
    legend = ax.get_legend()
    assert legend.get_title().get_text() == "kind"
    assert [t.get_text() for t in legend.get_texts()] == ["reopen", "self-loop", "ping-pong"]
    # the groups are data labels: as the data writes them, least hours first
    assert [t.get_text() for t in ax.get_yticklabels()] == ["技术支持部", "售后部", "客服中心"]
    plt.close(fig)

    fig = rw.plot(metric="count", lang="zh")
    ax = fig.axes[0]
    assert ax.get_title() == "按部门和类型的返工"
    assert ax.get_xlabel() == "返工次数"
    assert ax.get_ylabel() == "部门"
    legend = ax.get_legend()
    assert legend.get_title().get_text() == "返工类型"
    assert [t.get_text() for t in legend.get_texts()] == ["重新打开", "原地重复", "来回推诿"]
    # one occurrence per department: bars of width 1 (a kind's other groups: width 0)
    assert sorted(p.get_width() for p in ax.patches if p.get_width()) == [1.0, 1.0, 1.0]
    plt.close(fig)

    fig = rw.plot(lang="zh")
    assert fig.axes[0].get_xlabel() == "返工损失工时"
    assert sorted(p.get_width() for p in fig.axes[0].patches if p.get_width()) == [1, 2, 3]
    plt.close(fig)


def test_rework_chart_without_rework_and_bad_lang():
    """The empty chart says so in lang; an unknown lang is refused with the usual message."""
    empty = find_rework(_log().iloc[:1])
    assert empty.plot(lang="zh").axes[0].texts[0].get_text() == "没有发现返工"
    assert empty.plot().axes[0].texts[0].get_text() == "no rework found"
    plt.close("all")
    with pytest.raises(InvalidParameterError, match=r"'lang' parameter of ReworkResult\.plot"):
        empty.plot(lang="fr")


def test_rework_kind_names_are_the_glossarys():
    """The chart's kind names and the glossary's rework terms are one table."""
    terms = {e.key: (e.term_en, e.term_zh) for e in ENTRIES if e.group == "rework"}
    assert terms == REWORK_KIND_NAMES
    assert set(terms) == set(svc.rework.REWORK_KINDS)
    assert rework_kind_name("zh", "ping_pong") == "来回推诿"
    assert rework_kind_name("en", "back_loop") == "back loop"
    assert rework_kind_name("zh", "other") == "other"


# --------------------------------------------------------------------------- process map


def test_process_map_words_in_english_and_chinese():
    """plot_process_map writes its default title, legend, colour bar and box counts in lang."""
    m = plot_process_map(_log(), metric="cases", engine="matplotlib", lang="en")
    fig = m.to_figure()
    ax = fig.axes[0]
    assert ax.get_title(loc="left") == "Process map — tickets"
    assert _words(fig._supxlabel.get_text()) == _words(
        "Edge label: tickets with this transition (share of all tickets). Width and colour "
        "grow with the value. Boxes: step, owner, tickets."
    )
    assert fig.axes[1].get_ylabel() == "tickets"
    boxes = [t.get_text() for t in ax.texts]
    assert "售后部 · 1 ticket" in boxes  # one ticket: singular
    assert "客服中心 · 3 tickets" in boxes
    plt.close(fig)

    m = plot_process_map(_log(), metric="wait_p50", engine="matplotlib", lang="zh", min_share=0.5)
    fig = m.to_figure()
    ax = fig.axes[0]
    assert ax.get_title(loc="left") == "流程图 — 等待时间中位数"
    assert _words(fig._supxlabel.get_text()) == _words(
        "连线标注：两个环节之间等待时间的中位数 (p50)，自然时间；低于 50% 工单的连线和环节已隐藏"
        "。线宽和颜色随数值增大。方框：环节、负责部门、事件数。"
    )
    assert fig.axes[1].get_ylabel() == "等待时间 p50，小时"
    assert "技术支持部 · 4" in [t.get_text() for t in ax.texts]  # 排障: 4 events, no unit
    plt.close(fig)

    fig = plot_process_map(_log(), metric="cases", engine="matplotlib", lang="zh").to_figure()
    assert fig.axes[0].get_title(loc="left") == "流程图 — 工单数"
    assert "售后部 · 1 张工单" in [t.get_text() for t in fig.axes[0].texts]
    plt.close(fig)
    with pytest.raises(InvalidParameterError, match="'lang' parameter of plot_process_map"):
        plot_process_map(_log(), engine="matplotlib", lang="de")


# --------------------------------------------------------------------------- sample exports


@pytest.fixture(scope="module")
def sample(sample_dir):
    log = svc.read_tickets(sample_dir, timezone=TZ, dedupe="all")
    sop = svc.load_sop(sample_dir / "sop_complaint.yaml")
    return log, sop


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_sample_charts_have_no_overlapping_texts(sample, lang):
    """On the sample exports the rework chart, the report's process map and the pain-point
    map (matplotlib engine) draw no two texts on top of each other, in both languages."""
    log, sop = sample
    fig = find_rework(log, sop=sop).plot(lang=lang)
    assert overlapping_texts(fig) == []
    plt.close(fig)
    fig = plot_process_map(
        log, metric="cases", min_share=0.01, engine="matplotlib", lang=lang
    ).to_figure()
    assert overlapping_texts(fig) == []
    plt.close(fig)
    pp = svc.pain_points(log, sop=sop)
    fig = pp.plot(engine="matplotlib", lang=lang)
    assert overlapping_texts(fig) == []
    title = fig.axes[0].get_title(loc="left").split("\n")
    top = pp.table.head(5)
    ranked = zip(top["rank"], top["pain_point"], top["hours_lost"], strict=True)
    if lang == "zh":
        assert title == ["痛点（损失工时）"] + [f"{r}. {p}（{h:,.0f} 小时）" for r, p, h in ranked]
    else:
        assert title == ["Pain points (hours lost)"] + [
            f"{r}. {p} ({h:,.0f} h)" for r, p, h in ranked
        ]
    plt.close(fig)
