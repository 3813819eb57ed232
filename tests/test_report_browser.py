"""The HTML report in a real headless Chromium: offline, no console errors, images load.

Chromium is driven through the DevTools protocol over a pipe (``--remote-debugging-pipe``),
so no extra Python package is needed. Tests skip when no Chromium binary is found
(set ``SVCMINING_CHROMIUM`` to its path, or install Debian's ``chromium`` package); with
``SVCMINING_REQUIRE_CHROMIUM=1`` (CI) a missing or broken Chromium is an error instead.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

#: The only scripts of a report: the explorer's data block and its code (tests/test_explorer.py).
EXPLORER_SCRIPTS = ["svcm-explorer-data", "svcm-explorer-code"]
CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")


def _chromium() -> str | None:
    env = os.environ.get("SVCMINING_CHROMIUM")
    if env:
        return env if Path(env).exists() else shutil.which(env)
    for name in CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    return None


CHROMIUM = _chromium()
if CHROMIUM is None and os.environ.get("SVCMINING_REQUIRE_CHROMIUM"):
    raise RuntimeError(
        "SVCMINING_REQUIRE_CHROMIUM is set but no Chromium binary was found "
        "(apt-get install chromium, or set SVCMINING_CHROMIUM to its path)"
    )
pytestmark = pytest.mark.skipif(
    CHROMIUM is None,
    reason="no Chromium binary found (apt-get install chromium, or set SVCMINING_CHROMIUM)",
)


class Browser:
    """A headless Chromium with no network, spoken to over the DevTools pipe."""

    def __init__(self, profile: Path) -> None:
        to_chrome_r, self._to_chrome = os.pipe()
        self._from_chrome, from_chrome_w = os.pipe()

        def child_fds() -> None:  # chromium reads commands on fd 3 and answers on fd 4
            r, w = os.dup(to_chrome_r), os.dup(from_chrome_w)  # out of the way of 3 and 4
            r, w = os.dup2(r, 200), os.dup2(w, 201)
            os.dup2(r, 3, inheritable=True)
            os.dup2(w, 4, inheritable=True)

        self.proc = subprocess.Popen(
            [
                str(CHROMIUM),
                "--headless",
                "--no-sandbox",  # containers run as root
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--remote-debugging-pipe",
                "--no-first-run",
                "--no-default-browser-check",
                "--disable-extensions",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--host-resolver-rules=MAP * ~NOTFOUND",  # no DNS: nothing can be fetched
                "--proxy-server=http://127.0.0.1:9",  # and no direct connection either
                f"--user-data-dir={profile}",
                "--window-size=1280,900",
                "about:blank",
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            preexec_fn=child_fds,
            pass_fds=(3, 4),
        )
        os.close(to_chrome_r)
        os.close(from_chrome_w)
        self._buf = b""
        self._id = 0
        self.events: list[dict[str, Any]] = []

    def close(self) -> None:
        with contextlib.suppress(Exception):  # best effort, then kill
            self.send("Browser.close", timeout=5)
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        os.close(self._to_chrome)
        os.close(self._from_chrome)

    def _read_message(self, deadline: float) -> dict[str, Any]:
        while b"\0" not in self._buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("Chromium did not answer in time")
            ready, _, _ = select.select([self._from_chrome], [], [], left)
            if ready:
                chunk = os.read(self._from_chrome, 1 << 20)
                if not chunk:
                    raise RuntimeError("Chromium closed the DevTools pipe")
                self._buf += chunk
        raw, self._buf = self._buf.split(b"\0", 1)
        return json.loads(raw)

    def send(
        self, method: str, params: dict | None = None, session: str | None = None, timeout=30
    ) -> dict[str, Any]:
        self._id += 1
        msg: dict[str, Any] = {"id": self._id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        os.write(self._to_chrome, json.dumps(msg).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while True:
            reply = self._read_message(deadline)
            if reply.get("id") == self._id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self.events.append(reply)

    def wait_for(self, method: str, timeout: float = 60) -> dict[str, Any]:
        for ev in self.events:
            if ev.get("method") == method:
                return ev
        deadline = time.monotonic() + timeout
        while True:
            ev = self._read_message(deadline)
            self.events.append(ev)
            if ev.get("method") == "Page.javascriptDialogOpening":  # an alert() would block
                self.send("Page.handleJavaScriptDialog", {"accept": False}, ev.get("sessionId"))
            if ev.get("method") == method:
                return ev

    def open(self, path: Path, screenshot: Path | None = None, action: str = "") -> dict[str, Any]:
        """Load ``path`` (then run the script ``action``, as a reader's click would); return
        what the page shows and everything that went wrong."""
        target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})[
            "sessionId"
        ]
        for domain in ("Page", "Runtime", "Log", "Network"):
            self.send(f"{domain}.enable", session=session)
        self.events.clear()
        self.send("Page.navigate", {"url": path.resolve().as_uri()}, session=session)
        self.wait_for("Page.loadEventFired")
        time.sleep(0.3)  # late console messages
        if action:
            self.send("Runtime.evaluate", {"expression": action}, session=session)
        probe = """JSON.stringify({
            images: Array.from(document.images).map(i => ({
                ok: i.complete && i.naturalWidth > 0, alt: i.alt, src: i.src.slice(0, 30)})),
            text: document.body.innerText,
            scripts: Array.from(document.scripts).map(s => s.id),
            title: document.title,
            height: document.documentElement.scrollHeight})"""
        out = self.send(
            "Runtime.evaluate", {"expression": probe, "returnByValue": True}, session=session
        )
        page = json.loads(out["result"]["value"])
        if screenshot is not None:
            self.send(
                "Emulation.setDeviceMetricsOverride",
                {
                    "width": 1280,
                    "height": min(int(page["height"]), 16000),
                    "deviceScaleFactor": 1,
                    "mobile": False,
                },
                session=session,
            )
            shot = self.send(
                "Page.captureScreenshot",
                {"format": "png", "captureBeyondViewport": True},
                session=session,
            )
            import base64

            screenshot.write_bytes(base64.b64decode(shot["data"]))
        self.send("Target.closeTarget", {"targetId": target})
        ev = self.events
        page["console_errors"] = [
            e["params"]
            for e in ev
            if (e.get("method") == "Runtime.consoleAPICalled" and e["params"]["type"] == "error")
            or e.get("method") == "Runtime.exceptionThrown"
            or (e.get("method") == "Log.entryAdded" and e["params"]["entry"]["level"] == "error")
        ]
        page["requests"] = [
            e["params"]["request"]["url"]
            for e in ev
            if e.get("method") == "Network.requestWillBeSent"
        ]
        page["dialogs"] = [e for e in ev if e.get("method") == "Page.javascriptDialogOpening"]
        return page


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    """One headless Chromium for the module."""
    b = Browser(tmp_path_factory.mktemp("chromium-profile"))
    try:
        b.send("Browser.getVersion", timeout=60)
    except Exception as exc:
        b.close()
        if os.environ.get("SVCMINING_REQUIRE_CHROMIUM"):
            raise
        pytest.skip(f"Chromium at {CHROMIUM} did not start: {exc}")
    yield b
    b.close()


def _tiny_log(evil: str = "<script>alert(1)</script>") -> pd.DataFrame:
    """Four tickets of the sample process; one activity label is a script tag."""
    acts = {
        "A1": [
            "投诉登记",
            "需求确认",
            "分类派单",
            "售后评估",
            "远程排障",
            "客户验收",
            "结单",
            "回访",
        ],
        "A2": [
            "投诉登记",
            "需求确认",
            "分类派单",
            "销售核实",
            "售后评估",
            "上门维修",
            "客户验收",
            "结单",
        ],
        "A3": [
            "投诉登记",
            "需求确认",
            evil,
            "售后评估",
            "远程排障",
            "远程排障",
            "客户验收",
            "结单",
        ],
        "A4": [
            "投诉登记",
            "分类派单",
            "售后评估",
            "远程排障",
            "客户验收",
            "结单",
            "重新打开",
            "远程排障",
            "客户验收",
            "结单",
        ],
    }
    dept = {
        "投诉登记": "客服中心",
        "需求确认": "客服中心",
        "分类派单": "客服中心",
        "销售核实": "销售部",
        "售后评估": "售后部",
        "远程排障": "技术支持部",
        "上门维修": "上门服务",
        "客户验收": "客服中心",
        "结单": "客服中心",
        "回访": "客服中心",
        "重新打开": "客服中心",
        evil: "<b>部门</b>",
    }
    rows = []
    for i, (case, seq) in enumerate(acts.items()):
        t0 = pd.Timestamp("2024-10-08 09:00", tz="Asia/Shanghai") + pd.Timedelta(days=9 * i)
        for j, a in enumerate(seq):
            rows.append(
                {
                    "case_id": case,
                    "activity": a,
                    "timestamp": t0 + pd.Timedelta(hours=3 * j),
                    "resource": f"客服{j % 3:02d}",
                    "department": dept[a],
                    "priority": "高" if i % 2 else "普通",
                    "channel": "电话",
                }
            )
    df = pd.DataFrame(rows)
    df["timestamp"] = df["timestamp"].astype("datetime64[ns, Asia/Shanghai]")
    return df


SOP_YAML = """\
name: 投诉处理 <i>SOP</i>
steps:
  - {id: register, labels: [投诉登记], department: 客服中心}
  - {id: confirm, labels: [需求确认], department: 客服中心}
  - {id: assign, labels: [分类派单], department: 客服中心}
  - {id: sales_check, labels: [销售核实], department: 销售部, optional: true}
  - {id: assess, labels: [售后评估], department: 售后部}
  - {id: remote, labels: [远程排障], department: 技术支持部, repeatable: true}
  - {id: onsite, labels: [上门维修], department: 上门服务}
  - {id: accept, labels: [客户验收], department: 客服中心}
  - {id: close, labels: [结单], department: 客服中心}
  - {id: reopen, labels: [重新打开], department: 客服中心}
  - {id: follow_up, labels: [回访], department: 客服中心, optional: true}
flow:
  - register
  - confirm
  - assign
  - sales_check
  - assess
  - loop:
      do: [{choice: [remote, onsite]}, accept, close]
      redo: [reopen]
  - follow_up
"""


def test_report_opens_offline_without_errors(browser, tmp_path):
    """The report loads from file with no network request, no console error, every image shown."""
    import svcmining.report as rp

    sop = tmp_path / "sop.yaml"
    sop.write_text(SOP_YAML, encoding="utf-8")
    rep = rp.build_report(_tiny_log(), sop=sop, lang="en")
    path = rep.save(tmp_path / "report.html")
    page = browser.open(path, screenshot=tmp_path / "report.png")
    assert page["console_errors"] == []
    assert [u for u in page["requests"] if not u.startswith(("file:", "data:"))] == []
    assert page["images"], "the report shows figures"
    assert all(img["ok"] for img in page["images"]), page["images"]
    assert page["scripts"] == EXPLORER_SCRIPTS
    assert page["title"] == "Service process report"


def test_report_escapes_labels_in_browser(browser, tmp_path):
    """An activity named <script>alert(1)</script> shows as text and runs nothing."""
    import svcmining.report as rp

    sop = tmp_path / "sop.yaml"
    sop.write_text(SOP_YAML, encoding="utf-8")
    path = rp.build_report(_tiny_log(), sop=sop).save(tmp_path / "evil.html")
    page = browser.open(path)
    assert page["dialogs"] == []
    assert page["scripts"] == EXPLORER_SCRIPTS
    assert "<script>alert(1)</script>" in page["text"]
    assert "<b>部门</b>" in page["text"]
    assert "投诉处理 <i>SOP</i>" in page["text"]


def test_report_chinese_text_present(browser, tmp_path):
    """Chinese labels from the data reach the rendered page as text."""
    import svcmining.report as rp

    path = rp.build_report(_tiny_log(), sections=["variants", "quality"]).save(tmp_path / "zh.html")
    page = browser.open(path)
    for label in ("投诉登记", "远程排障", "客户验收"):
        assert label in page["text"]
    assert np.all([img["ok"] for img in page["images"]])


@pytest.mark.slow
def test_sample_report_in_browser(browser, sample_dir, tmp_path):
    """The demo report on the bundled sample exports opens cleanly, with Chinese text."""
    exports = sorted(sample_dir.glob("*.csv"))
    if not exports:
        pytest.skip(f"no sample exports in {sample_dir} yet (python -m svcmining.datasets)")
    from svcmining.cli import main

    out = tmp_path / "demo" / "report.html"
    assert main(["demo", "--out", str(out)]) == 0
    page = browser.open(out, screenshot=tmp_path / "demo.png")
    assert page["console_errors"] == []
    assert [u for u in page["requests"] if not u.startswith(("file:", "data:"))] == []
    assert len(page["images"]) >= 3
    assert all(img["ok"] for img in page["images"]), page["images"]
    assert "投诉登记" in page["text"]


def test_long_table_shows_its_tail_on_click(browser, tmp_path):
    """A long table shows 15 rows; opening "show all" shows every other row, with no script."""
    import svcmining.report as rp
    from svcmining._reportparts import table_html

    body = table_html(pd.DataFrame({"cases": range(1000, 1040)}), lang="en")
    section = rp.ReportSection("variants", "Variants", body)
    path = rp.Report("t", (section,)).save(tmp_path / "long.html")
    closed = browser.open(path)["text"]
    assert "1,014" in closed and "1,015" not in closed and "show all 40 rows" in closed
    assert "show fewer rows" not in closed
    opened = browser.open(path, action="document.querySelector('details.rows').open = true")
    assert all(f"1,{v:03d}" in opened["text"] for v in range(40))
    # the switch now offers to fold the rows away again (CSS on details[open], no script)
    assert "show fewer rows" in opened["text"] and "show all 40 rows" not in opened["text"]
    assert opened["console_errors"] == []
