"""Tests for svcmining.sop: SOP-as-code loading, stages, models and YAML errors."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

from svcmining.exceptions import SOPDefinitionError
from svcmining.sop import SOP, choice_groups, load_sop, sop_from_dict

REPO = Path(__file__).resolve().parents[1]
COMPLAINT = REPO / "sample_logs" / "sop_complaint.yaml"
BPIC = REPO / "sample_logs" / "sop_bpic2013_incidents.yaml"

BASE = "steps:\n  - id: a\n    labels: [登记]\n  - id: b\n    labels: [结单]\n"


@pytest.fixture(scope="module")
def sop() -> SOP:
    """The bundled complaint SOP."""
    return load_sop(COMPLAINT)


def _load_text(tmp_path: Path, text: str) -> SOP:
    p = tmp_path / "sop.yaml"
    p.write_text(text, encoding="utf-8")
    return load_sop(p)


def test_complaint_sop_steps_and_departments(sop: SOP) -> None:
    """The sample SOP describes exactly the process of process.md (ids, labels, owners)."""
    assert sop.step_ids == [
        "register", "confirm", "assign", "sales_check", "assess", "approve", "remote",
        "onsite", "accept", "close", "reopen", "follow_up", "quality",
    ]  # fmt: skip
    owners = {s.id: s.departments for s in sop.steps}
    assert owners["sales_check"] == ("销售部",)
    assert owners["assess"] == ("售后部",)
    assert owners["remote"] == ("技术支持部",)
    assert owners["onsite"] == ("上门服务",)
    assert owners["follow_up"] == ("客服中心", "质量监督")
    assert [s.id for s in sop.steps if s.optional] == ["sales_check", "approve", "quality"]
    assert [s.id for s in sop.steps if s.repeatable] == ["remote"]


def test_stage_of_orders_steps_and_shares_choice_stage(sop: SOP) -> None:
    """stage_of: SOP order, choice members share a stage, aliases count, unknown is None."""
    assert sop.stage_of("投诉登记") == 0
    assert sop.stage_of("Register") == 0  # an alias label
    assert sop.stage_of("分类派单") == 2
    assert sop.stage_of("售后评估") == 4
    assert sop.stage_of("远程排障") == sop.stage_of("上门维修") == 6
    assert sop.stage_of("客户验收") == 7
    assert sop.stage_of("结单") == 8
    assert sop.stage_of("重新打开") == 9
    assert sop.stage_of("回访") == 10
    assert sop.stage_of("电话催办") is None
    assert sop.step_of("Close").id == "close"


def test_process_tree_compiles_blocks(sop: SOP) -> None:
    """optional -> xor with tau, repeatable -> loop, choice -> xor, loop do/redo -> loop."""
    assert str(sop.process_tree()) == (
        "->( '投诉登记', '需求确认', '分类派单', X( '销售核实', tau ), '售后评估', "
        "X( '主管审批', tau ), *( ->( X( *( '远程排障', tau ), '上门维修' ), '客户验收', "
        "'结单' ), '重新打开' ), '回访', X( '质量抽检', tau ) )"
    )


def test_parallel_block_and_default_flow() -> None:
    """parallel -> AND; without a flow the steps form a sequence in declaration order."""
    s = sop_from_dict(
        {
            "steps": ["a", "b", "c", "d"],
            "flow": ["a", {"parallel": ["b", "c"]}, "d"],
        }
    )
    assert str(s.process_tree()) == "->( 'a', +( 'b', 'c' ), 'd' )"
    assert [s.stage_of(x) for x in "abcd"] == [0, 1, 1, 2]
    seq = sop_from_dict({"steps": ["x", "y"]})
    assert str(seq.process_tree()) == "->( 'x', 'y' )"


def test_choice_groups(sop: SOP) -> None:
    """Each choice branch knows its siblings (used to tell an inserted second branch)."""
    groups = choice_groups(sop)
    assert groups["remote"] == frozenset({"onsite"})
    assert groups["onsite"] == frozenset({"remote"})
    assert "assess" not in groups


def test_sla_frame_has_priority_tiers(sop: SOP) -> None:
    """SLAs: 2 h assign, 1/4/24 h response by priority, 24-48 h elapsed follow-up."""
    f = sop.sla_frame()
    resp = f[f["sla"] == "response_by_priority"].set_index("priority", drop=False)
    assert resp.loc["紧急", "upper_hours"] == 1.0
    assert resp.loc["高", "upper_hours"] == 4.0
    assert resp.loc["普通", "upper_hours"] == 24.0
    fu = f[f["sla"] == "follow_up_24_48h"].iloc[0]
    assert (fu["lower_hours"], fu["upper_hours"], fu["hours"]) == (24.0, 48.0, "elapsed")
    assign = f[f["sla"] == "assign_within_2h"].iloc[0]
    assert (assign["from_step"], assign["to_step"], assign["upper_hours"]) == (
        "register",
        "assign",
        2.0,
    )
    assert sop.calendar is not None
    assert sop.close_steps == ("close",)


def test_to_frame_lists_steps(sop: SOP) -> None:
    """to_frame: one row per step with stage and labels; _repr_html_ escapes."""
    t = sop.to_frame()
    assert list(t.columns) == [
        "step_id", "stage", "labels", "departments", "optional", "repeatable",
    ]  # fmt: skip
    assert t.loc[t["step_id"] == "register", "labels"].item() == "投诉登记 / 工单登记 / Register"
    assert "<table" in sop._repr_html_()


def test_bpmn_round_trip(sop: SOP, tmp_path: Path) -> None:
    """to_bpmn writes a file load_sop reads back with the same labels (no SLAs)."""
    path = sop.to_bpmn(tmp_path / "sop.bpmn")
    back = load_sop(path)
    assert sorted(back.labels) == sorted(s.label for s in sop.steps)
    assert back.slas == ()
    assert back.stage_of("投诉登记") == 0
    assert back.stage_of("需求确认") == 1
    assert back.stage_of("unknown") is None
    with pytest.raises(SOPDefinitionError, match="block-structured"):
        back.process_tree()


def test_bpmn_side_yaml_adds_departments_and_slas(sop: SOP, tmp_path: Path) -> None:
    """A side <name>.yaml gives departments/SLAs/aliases to the BPMN tasks."""
    sop.to_bpmn(tmp_path / "x.bpmn")
    (tmp_path / "x.yaml").write_text(
        "steps:\n"
        "  - id: register\n    labels: [Register, 投诉登记]\n    department: 客服中心\n"
        "  - id: assign\n    labels: [分类派单]\n"
        "slas:\n  - id: s\n    from: register\n    to: assign\n    within: 2h\n",
        encoding="utf-8",
    )
    back = load_sop(tmp_path / "x.bpmn")
    reg = back.step("register")
    assert reg.label == "投诉登记"  # the BPMN task name becomes the primary label
    assert reg.departments == ("客服中心",)
    assert [s.id for s in back.slas] == ["s"]
    assert back.step_of("Register") is reg


# ---- YAML aliases and huge durations (issue 21) ---------------------------------
CORPUS = REPO / "tests" / "corpus"


def _time_and_peak(fn) -> tuple[float, int, BaseException | None]:
    """Seconds and tracemalloc peak bytes of ``fn()``, and the error it raised."""
    import time
    import tracemalloc

    tracemalloc.start()
    t0 = time.perf_counter()
    err: BaseException | None = None
    try:
        fn()
    except Exception as exc:  # returned for the caller to check
        err = exc
    seconds = time.perf_counter() - t0
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return seconds, peak, err


def test_sop_alias_bomb_is_refused_fast_and_small() -> None:
    """A 1 kB SOP with 9 nested alias levels fails in < 2 s and < 200 MB, naming the line."""
    load_sop(COMPLAINT)  # imports warmed up: the figure is the YAML's own cost
    seconds, peak, err = _time_and_peak(lambda: load_sop(CORPUS / "sop_alias_bomb.yaml"))
    assert isinstance(err, SOPDefinitionError)
    msg = str(err)
    assert msg.startswith(
        f"{CORPUS / 'sop_alias_bomb.yaml'}, line 4: the SOP file uses YAML aliases"
    )
    assert "more than 10,000 extra values" in msg and len(msg) < 400
    assert seconds < 2.0 and peak < 200 * 2**20, (seconds, peak)


def test_sop_with_a_simple_anchor_and_alias_loads(tmp_path: Path) -> None:
    """Anchors that share a department list are expanded (the SOP docs allow them)."""
    sop = _load_text(
        tmp_path,
        "x-desk: &desk [客服中心, 客服二部]\n"
        "steps:\n"
        "  - {id: a, labels: [登记], department: *desk}\n"
        "  - {id: b, labels: [结单], department: *desk}\n"
        "flow: [a, b]\n",
    )
    assert [s.departments for s in sop.steps] == [("客服中心", "客服二部")] * 2


def test_error_inside_an_alias_names_a_line(tmp_path: Path) -> None:
    """A bad value reached through an alias still gets a file and line in the message."""
    with pytest.raises(SOPDefinitionError) as info:
        _load_text(
            tmp_path,
            BASE
            + "x-limit: &lim two hours\n"
            + "slas:\n  - id: s\n    from: a\n    to: b\n    within: *lim\n",
        )
    assert "sop.yaml, line 11: bad duration 'two hours'" in str(info.value)


def test_recursive_alias_is_refused(tmp_path: Path) -> None:
    """An alias inside its own anchor (a cycle) is a clear error, not a recursion crash."""
    with pytest.raises(SOPDefinitionError, match=r"sop\.yaml, line 1: .*refers to its own anchor"):
        _load_text(tmp_path, "a: &x [1, *x]\n" + BASE + "flow: [a, b]\n")


def test_aliases_under_the_budget_load_quickly(tmp_path: Path) -> None:
    """Aliases that add 1,100 values load, and the line index visits each node once."""
    levels = ["x0: &a0 [" + ", ".join(["v"] * 10) + "]"]
    levels += [f"x{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in (1, 2)]
    text = "\n".join(f"x-{line}" for line in levels) + "\n" + BASE + "flow: [a, b]\n"
    seconds, _, err = _time_and_peak(lambda: _load_text(tmp_path, text))
    assert err is None and seconds < 2.0


def test_huge_sla_duration_reads_as_years() -> None:
    """A 20-digit SLA limit is a short error in years, not a 25-digit seconds value."""
    spec = {
        "steps": [{"id": "a", "labels": ["登记"]}, {"id": "b", "labels": ["结单"]}],
        "flow": ["a", "b"],
        "slas": [{"id": "s", "from": "a", "to": "b", "within": "99999999999999999999h"}],
    }
    with pytest.raises(SOPDefinitionError) as info:
        sop_from_dict(spec)
    msg = str(info.value)
    assert "about 1.14e+16 years" in msg and "106,751 days (about 292 years)" in msg
    assert not re.search(r"\d{21,}", msg.replace("99999999999999999999", ""))
    assert len(msg) < 400


def _steps_yaml(n: int) -> str:
    steps = "".join(f"  - {{id: s{i}, labels: [L{i}], department: D{i % 50}}}\n" for i in range(n))
    return "name: big\nsteps:\n" + steps + "flow: [" + ", ".join(f"s{i}" for i in range(n)) + "]\n"


def test_a_large_sop_loads_within_two_seconds(tmp_path: Path) -> None:
    """A 240 kB SOP (4,300 steps) loads in under 2 s of CPU time."""
    import time

    text = _steps_yaml(4300)
    assert 200_000 < len(text) < 256 * 1024
    c0 = time.process_time()
    sop = _load_text(tmp_path, text)
    assert len(sop.steps) == 4300 and time.process_time() - c0 < 2.0


def test_an_oversized_yaml_fails_before_parsing(tmp_path: Path) -> None:
    """A 1 MB YAML is refused by size at once (parsing it alone takes ~2 s of CPU)."""
    import time

    text = _steps_yaml(17000)
    assert 900_000 < len(text) < 1_000_000
    c0 = time.process_time()
    with pytest.raises(SOPDefinitionError) as info:
        _load_text(tmp_path, text)
    assert time.process_time() - c0 < 0.5
    msg = str(info.value)
    assert msg.endswith(
        "sop.yaml: the SOP file is 960 kB; svcmining reads SOP, mapping and calendar files up "
        "to 256 kB (they are usually a few kB). Check that this is the right file."
    )


def test_error_message_with_an_aliased_list_is_bounded(tmp_path: Path) -> None:
    """A wrong value built from aliases (1,000 texts) is named in a message of <= 400 chars."""
    text = (
        "x-a: &a [" + ", ".join(["客服中心"] * 10) + "]\n"
        "x-b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
        "x-c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
        "steps:\n  - {id: a, labels: [登记], department: *c}\n  - {id: b, labels: [结单]}\n"
        "flow: [a, b]\n"
    )
    with pytest.raises(SOPDefinitionError) as info:
        _load_text(tmp_path, text)
    msg = str(info.value)
    assert "sop.yaml, line 2: department must be non-empty texts, got [[" in msg  # at x-b
    assert msg.endswith("…") and len(msg.split(": ", 1)[1]) == 400


def test_bpic_sop_loads() -> None:
    """The BPIC 2013 incidents SOP: three repeatable statuses, Unmatched unknown."""
    s = load_sop(BPIC)
    assert s.step_ids == ["accepted", "queued", "completed"]
    assert s.stage_of("Unmatched") is None
    assert s.stage_of("Accepted") < s.stage_of("Queued") < s.stage_of("Completed")


ERRORS = [
    ("unknown flow step", BASE + "flow:\n  - a\n  - c\n",
     "sop.yaml, line 8: unknown step 'c' in the flow; declared steps: a, b."),
    ("duplicate id", "steps:\n  - id: a\n  - id: a\nflow: [a]\n",
     "sop.yaml, line 3: duplicate step id 'a' (also step 1)."),
    ("bad duration",
     BASE + "slas:\n  - id: s\n    from: a\n    to: b\n    within: two hours\n",
     "sop.yaml, line 10: bad duration 'two hours'"),
    ("bad yaml", "steps: [a\n", "sop.yaml, line 2: not valid YAML"),
    ("not a mapping", "- a\n- b\n",
     "sop.yaml, line 1: an SOP file must be a mapping with 'steps' and 'flow'."),
    ("unknown key", BASE + "flw: [a, b]\n",
     "sop.yaml, line 6: unknown key 'flw'; an SOP has calendar, close, description, flow, name, "
     "slas, states, steps, targets, version."),
    ("unknown step key", "steps:\n  - id: a\n    optinal: true\n",
     "sop.yaml, line 3: unknown step key 'optinal'"),
    ("step twice", BASE + "flow: [a, b, a]\n",
     "sop.yaml, line 6: step 'a' appears twice in the flow"),
    ("unused step", BASE + "flow: [a]\n",
     "sop.yaml, line 4: step 'b' is declared but not used in the flow."),
    ("label clash", "steps:\n  - id: a\n    labels: [登记]\n  - id: b\n    labels: [登记]\n",
     "sop.yaml, line 5: label '登记' of step 'b' already belongs to step 'a'."),
    ("bad flag", "steps:\n  - id: a\n    optional: yes please\n",
     "sop.yaml, line 3: 'optional' must be true or false, got 'yes please'."),
    ("one-branch choice", BASE + "flow:\n  - choice: [a]\n  - b\n",
     "sop.yaml, line 7: 'choice' needs a list of at least two branches."),
    ("unknown block", BASE + "flow:\n  - either: [a, b]\n",
     "sop.yaml, line 7: unknown flow block 'either'; use choice, parallel, loop."),
    ("sla to unknown", BASE + "slas:\n  - id: s\n    to: c\n    within: 2h\n",
     "sop.yaml, line 8: SLA 's': 'to' must be a declared step id, got 'c'."),
    ("sla without limit", BASE + "slas:\n  - id: s\n    to: b\n",
     "sop.yaml, line 7: SLA 's' has no limit: give 'within', 'between' or 'by_priority'."),
    ("sla between reversed",
     BASE + "slas:\n  - id: s\n    from: a\n    to: b\n    between: [48h, 24h]\n",
     "sop.yaml, line 10: SLA 's': 'between' lower limit '48h' exceeds upper '24h'."),
    ("sla hours", BASE + "slas:\n  - id: s\n    to: b\n    within: 2h\n    hours: calendar\n",
     "sop.yaml, line 10: SLA 's': 'hours' must be 'business' or 'elapsed', got 'calendar'."),
    ("no steps", "flow: [a]\n", "sop.yaml, line 1: 'steps' must be a non-empty list of steps."),
    ("close unknown", BASE + "close: c\n",
     "sop.yaml, line 6: 'close' must name declared step ids, got 'c'."),
    ("loop keys", BASE + "flow:\n  - loop: {body: [a]}\n  - b\n",
     "sop.yaml, line 7: 'loop' takes 'do' (required) and 'redo' (optional)."),
]  # fmt: skip


@pytest.mark.parametrize(("name", "text", "message"), ERRORS, ids=[e[0] for e in ERRORS])
def test_yaml_errors_name_file_line_and_problem(
    tmp_path: Path, name: str, text: str, message: str
) -> None:
    """Each malformed SOP raises SOPDefinitionError with file, line and the problem."""
    with pytest.raises(SOPDefinitionError) as info:
        _load_text(tmp_path, text)
    got = str(info.value).replace(str(tmp_path) + "/", "")
    assert got.startswith(message), got


def test_errors_are_value_errors(tmp_path: Path) -> None:
    """SOPDefinitionError is a ValueError (callers without svcmining can catch it)."""
    with pytest.raises(ValueError, match=re.escape("duplicate step id")):
        _load_text(tmp_path, "steps:\n  - id: a\n  - id: a\n")


def test_missing_file_and_bad_bpmn(tmp_path: Path) -> None:
    """A missing file and an unreadable BPMN are SOPDefinitionErrors naming the file."""
    with pytest.raises(SOPDefinitionError, match="no such SOP file"):
        load_sop(tmp_path / "nope.yaml")
    bad = tmp_path / "bad.bpmn"
    bad.write_text("<not bpmn", encoding="utf-8")
    with pytest.raises(SOPDefinitionError, match=re.escape("bad.bpmn: not a readable BPMN file")):
        load_sop(bad)


def test_yaml_is_loaded_safely(tmp_path: Path) -> None:
    """Python object tags are rejected (safe loading only)."""
    with pytest.raises(SOPDefinitionError, match="not valid YAML"):
        _load_text(tmp_path, "steps: !!python/object/apply:os.system ['echo hi']\n")


def test_durations_in_several_spellings(tmp_path: Path) -> None:
    """SLA durations accept 30min / 1.5d / 2小时 spellings via calendars.parse_duration."""
    s = _load_text(
        tmp_path,
        BASE + "slas:\n  - id: s\n    from: a\n    to: b\n    within: 2小时\n"
        "  - id: t\n    to: b\n    between: [30min, 1.5d]\n",
    )
    assert s.slas[0].upper_hours() == 2.0
    assert s.slas[0].from_step == "a"
    assert s.slas[1].from_step == "case_start"
    assert (s.slas[1].lower_hours, s.slas[1].upper_hours()) == (0.5, 36.0)
    assert isinstance(s.slas[1].between[0], pd.Timedelta)


def _bpmn_diagram(path: Path) -> tuple[dict, dict, dict]:
    """(node id -> (kind, name, bounds x0, y0, x1, y1), flow id -> (source, target),
    flow id -> waypoints) from a BPMN file's process and DI."""
    import xml.etree.ElementTree as ET

    ns = {
        "bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL",
        "bpmndi": "http://www.omg.org/spec/BPMN/20100524/DI",
        "dc": "http://www.omg.org/spec/DD/20100524/DC",
        "di": "http://www.omg.org/spec/DD/20100524/DI",
    }
    root = ET.parse(path).getroot()
    process = root.find("bpmn:process", ns)
    assert process is not None
    kinds: dict[str, tuple[str, str]] = {}
    flows: dict[str, tuple[str, str]] = {}
    for el in process:
        tag = el.tag.split("}")[1]
        if tag == "sequenceFlow":
            flows[el.get("id")] = (el.get("sourceRef"), el.get("targetRef"))
        else:
            kinds[el.get("id")] = (tag, el.get("name") or "")
    shapes = {}
    for sh in root.iter(f"{{{ns['bpmndi']}}}BPMNShape"):
        b = sh.find("dc:Bounds", ns)
        x, y, w, h = (float(b.get(k)) for k in ("x", "y", "width", "height"))
        shapes[sh.get("bpmnElement")] = (*kinds[sh.get("bpmnElement")], x, y, x + w, y + h)
    waypoints = {
        ed.get("bpmnElement"): [
            (float(w.get("x")), float(w.get("y"))) for w in ed.findall("di:waypoint", ns)
        ]
        for ed in root.iter(f"{{{ns['bpmndi']}}}BPMNEdge")
    }
    assert set(shapes) == set(kinds)
    return shapes, flows, waypoints


def _on_border(p: tuple[float, float], box: tuple[float, ...]) -> bool:
    x0, y0, x1, y1 = box
    inside_grown = x0 - 0.6 <= p[0] <= x1 + 0.6 and y0 - 0.6 <= p[1] <= y1 + 0.6
    inside_shrunk = x0 + 0.6 < p[0] < x1 - 0.6 and y0 + 0.6 < p[1] < y1 - 0.6
    return inside_grown and not inside_shrunk


def test_bpmn_diagram_is_laid_out_without_graphviz(
    sop: SOP, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """to_bpmn never calls Graphviz; shapes do not overlap, flows run border to border, and
    the tasks go left to right in SOP order, the same on every write."""
    import itertools

    import pm4py

    monkeypatch.setenv("PATH", str(tmp_path))  # no dot anywhere
    path = sop.to_bpmn(tmp_path / "sop.bpmn")
    assert path == tmp_path / "sop.bpmn"
    shapes, flows, waypoints = _bpmn_diagram(path)
    names = sorted(s[1] for s in shapes.values() if s[0] == "task")
    assert names == sorted(s.label for s in sop.steps)
    assert {s[0] for s in shapes.values()} >= {"startEvent", "endEvent", "task", "exclusiveGateway"}
    boxes = [s[2:] for s in shapes.values()]
    assert min(b[0] for b in boxes) == 20.0 and min(b[1] for b in boxes) == 20.0  # the margin
    for a, b in itertools.combinations(boxes, 2):
        assert a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1], (a, b)
    assert set(waypoints) == set(flows)
    for fid, (src, tgt) in flows.items():
        pts = waypoints[fid]
        assert len(pts) >= 2
        assert _on_border(pts[0], shapes[src][2:]), (shapes[src][1], pts)
        assert _on_border(pts[-1], shapes[tgt][2:]), (shapes[tgt][1], pts)
    left = {s[1]: s[2] for s in shapes.values() if s[0] == "task"}
    assert left["投诉登记"] < left["需求确认"] < left["分类派单"] < left["售后评估"]
    assert left["客户验收"] < left["结单"] < left["回访"] < left["质量抽检"]
    again, _, _ = _bpmn_diagram(sop.to_bpmn(tmp_path / "again.bpmn"))
    assert sorted(s[1:] for s in again.values()) == sorted(s[1:] for s in shapes.values())
    bpmn = pm4py.read_bpmn(str(path))
    assert len(bpmn.get_nodes()) == len(shapes)
    assert len(bpmn.get_flows()) == len(flows)


def test_targets_and_display_names():
    """targets:/SLA target: read as shares and hours; step display names follow the
    report language (name, else a label written in that language)."""
    sop = load_sop(Path(__file__).parent.parent / "sample_logs" / "sop_complaint.yaml")
    assert sop.kpi_targets()[("sla_attainment", "assign_within_2h")] == 0.95
    assert sop.kpi_targets()[("reopen_rate", "")] == 0.05
    reg = sop.step("register")
    assert reg.display_name() == "register the complaint / request"
    assert reg.display_name("en") == "register the complaint / request"
    assert reg.display_name("zh") == "投诉登记"
    plain = sop_from_dict({"steps": [{"id": "a", "labels": ["登记"]}]}).step("a")
    assert (plain.display_name(), plain.display_name("en")) == ("登记", "登记")
    for spec, match in (
        ({"targets": {"reopen_rate": "fast"}}, "bad duration 'fast'"),
        ({"targets": [1]}, "'targets' must map KPI names"),
        ({"slas": [{"to": "a", "within": "1h", "target": "120%"}]}, "'target' is a share"),
        ({"targets": {"reopen_rate": True}}, "a target must be a number"),
    ):
        with pytest.raises(SOPDefinitionError, match=match):
            sop_from_dict({"steps": [{"id": "a", "labels": ["登记"]}], **spec})


SLA_NAMED = {
    "steps": [{"id": "reg", "labels": ["登记"]}, {"id": "close", "labels": ["结单"]}],
    "slas": [
        {"id": "reg_close", "name": " 登记到结单 ≤ 2 小时 ", "from": "reg", "to": "close",
         "within": "2h", "hours": "elapsed"},
        {"id": "fast", "from": "reg", "to": "close", "within": "3h", "hours": "elapsed"},
    ],
}  # fmt: skip


def _two_tickets() -> pd.DataFrame:
    """Ticket 1 closed 1 h after registering, ticket 2 after 4 h."""
    ts = ["2024-10-08 09:00", "2024-10-08 10:00", "2024-10-08 09:00", "2024-10-08 13:00"]
    return pd.DataFrame(
        {
            "case_id": ["1", "1", "2", "2"],
            "activity": ["登记", "结单", "登记", "结单"],
            "timestamp": pd.to_datetime(ts).tz_localize("Asia/Shanghai"),
        }
    )


def test_sla_name_is_kept_and_defaults_to_the_id(tmp_path: Path) -> None:
    """An SLA's YAML name: reaches SLA.name (stripped) and sla_frame; without one, the id."""
    text = (
        BASE + "slas:\n  - id: a_to_b\n    name: 登记后 1 小时内结单\n    from: a\n    to: b\n"
        "    within: 1h\n  - id: slow\n    from: a\n    to: b\n    within: 2h\n"
    )
    sop = _load_text(tmp_path, text)
    assert [(s.id, s.name) for s in sop.slas] == [
        ("a_to_b", "登记后 1 小时内结单"),
        ("slow", "slow"),
    ]
    named = sop_from_dict(SLA_NAMED)
    assert [(s.id, s.name) for s in named.slas] == [
        ("reg_close", "登记到结单 ≤ 2 小时"),
        ("fast", "fast"),
    ]
    frame = named.sla_frame()
    assert frame[["sla", "sla_name"]].values.tolist() == [
        ["reg_close", "登记到结单 ≤ 2 小时"],
        ["fast", "fast"],
    ]
    for bad in ("  ", ["x"], 3):
        spec = {**SLA_NAMED, "slas": [{**SLA_NAMED["slas"][0], "name": bad}]}
        with pytest.raises(SOPDefinitionError, match="SLA 'reg_close': 'name' must be a text"):
            sop_from_dict(spec)


def test_sla_name_in_attainment_table_glossary_and_report() -> None:
    """check_sop's sla_attainment keeps the id in sla and adds sla_name; the report's SLA
    table and the glossary's SLA rules show the name."""
    from svcmining._glossary import glossary_html
    from svcmining.conformance import check_sop
    from svcmining.report import build_report

    sop = sop_from_dict(SLA_NAMED)
    att = check_sop(_two_tickets(), sop).sla_attainment
    assert list(att.columns) == [
        "sla", "sla_name", "priority", "met", "breached", "censored", "attainment", "hours_lost",
    ]  # fmt: skip
    # ticket 1 met both (1 h), ticket 2 breached both (4 h: 2 h and 1 h beyond the limits)
    assert att[
        ["sla", "sla_name", "priority", "met", "breached", "hours_lost"]
    ].values.tolist() == [
        ["reg_close", "登记到结单 ≤ 2 小时", "(none)", 1, 1, 2.0],
        ["reg_close", "登记到结单 ≤ 2 小时", "all", 1, 1, 2.0],
        ["fast", "fast", "(none)", 1, 1, 1.0],
        ["fast", "fast", "all", 1, 1, 1.0],
    ]
    rules = glossary_html("zh", sop)
    assert "<td>登记到结单 ≤ 2 小时 (reg_close)</td>" in rules
    assert "<td>fast</td>" in rules  # no name: the id, once
    html = build_report(_two_tickets(), sop=sop).to_html()
    row = '<td class="nw">reg_close</td><td class="nw">登记到结单 ≤ 2 小时</td>'
    assert html.count(row) == 2  # the SLA attainment table: priority (none) and all
    assert html.count("<td>登记到结单 ≤ 2 小时 (reg_close)</td>") == 1  # the glossary
