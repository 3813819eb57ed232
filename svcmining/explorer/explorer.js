/* svcmining report explorer: plain hand-written JavaScript, no library, no network.
   Reads the JSON block #svcm-explorer-data and draws, inside #svcm-x, the process map (SVG),
   the variant explorer, the dotted chart (canvas) and the ticket table. Every data label is
   set as text (textContent / createTextNode), never parsed as HTML. */
(function () {
  "use strict";
  var dataEl = document.getElementById("svcm-explorer-data");
  var root = document.getElementById("svcm-x");
  if (!dataEl || !root) { return; }
  var D = JSON.parse(dataEl.textContent);
  var SVGNS = "http://www.w3.org/2000/svg";
  // the explorer's own words in the report's language (D.lang); data labels stay as they are
  var S = {
    en: {
      tabs: ["Process map", "Variants", "Dotted chart"],
      business: "business hours", hours: "hours",
      hTicket: "Ticket", hOpened: "Opened", hChannel: "Channel", hPriority: "Priority",
      hDeps: "Department path", hEvents: "Events", hCycle: "Cycle ({u})",
      hRework: "Rework loops", hDev: "SOP deviations", hVariant: "Variant #",
      python: "The same tickets in Python", kept: "the steps the activity slider shows",
      yaml: "As a filters.yaml",
      oneTicket: "{n} ticket.", nTickets: "{n} tickets.",
      listed: "{n} tickets; the {k} with the {by} are listed (the report keeps at most {top} per element).",
      byCycle: "longest cycle time", byWait: "longest wait here",
      mFreq: "Frequency (tickets)", mP50: "Performance: median wait", mP90: "Performance: p90 wait",
      measure: "Measure", activities: "Activities", paths: "Paths", overlay: "SOP overlay",
      reset: "Reset view", mapLabel: "interactive process map",
      step: "Step {a}", events: "{n} events. ", start: "start", end: "end",
      waits: " Wait: median {a}, p90 {b}.", transition: "Transition {a}",
      bridged: " (without the steps the activity slider hides)", times: "{n} times.",
      outOf: "{v}% ({k} of {n})", ticket1: " ticket", ticketN: " tickets",
      rare: "{n} rare steps not in the map; ", labFreq: "labels: tickets",
      labWait: "labels: {q} wait ({u})", median: "median", p90: "p90",
      nVariants: "{n} variants", topVariants: "; the {k} most frequent are listed",
      clickRow: ". Click a row for its tickets.",
      vTickets: "Tickets", vShare: "Share", vMedian: "Median cycle ({u})",
      vDev: "Tickets deviating from SOP", vSteps: "Steps", variant: "Variant #{k} ({n} steps)",
      byAct: "colour by activity", byDep: "colour by department", calTime: "calendar time",
      sinceOpen: "hours since the ticket opened", noEvents: "No events to draw.",
      axBusiness: "{n} business h", axHours: "{n} h", byStart: "tickets by start",
      none: "(none)",
      dotNote: "{k} of {n} tickets (evenly spread over the opening order), {e} events",
      dotOut: " ({n} beyond the 1st-99th percentile of time drawn on the edges)",
      dotClick: ". Click a row to see its ticket.",
      ticketOf: "Ticket {a}", oneOfDots: "One ticket of the dotted chart.",
      painHint: "Show the example tickets in the explorer", pain: "Pain point {a}",
      painNote: "{n} tickets; the {k} costliest the pain-point analysis keeps as examples are listed."
    },
    zh: {
      tabs: ["流程图", "变体", "点图"],
      business: "工作小时", hours: "小时",
      hTicket: "工单", hOpened: "创建时间", hChannel: "渠道", hPriority: "优先级",
      hDeps: "部门路径", hEvents: "事件数", hCycle: "周期（{u}）",
      hRework: "返工次数", hDev: "SOP 偏离", hVariant: "变体编号",
      python: "在 Python 中选出同样的工单", kept: "活动滑块显示的步骤",
      yaml: "写成 filters.yaml",
      oneTicket: "{n} 张工单。", nTickets: "{n} 张工单。",
      listed: "共 {n} 张工单；列出{by}的 {k} 张（报告每个元素最多保留 {top} 张）。",
      byCycle: "周期最长", byWait: "此处等待最长",
      mFreq: "频次（工单数）", mP50: "性能：等待中位数", mP90: "性能：等待 90 分位",
      measure: "度量", activities: "活动", paths: "路径", overlay: "SOP 叠加",
      reset: "重置视图", mapLabel: "交互式流程图",
      step: "步骤 {a}", events: "{n} 个事件。", start: "开始", end: "结束",
      waits: " 等待：中位数 {a}，90 分位 {b}。", transition: "流转 {a}",
      bridged: "（不含活动滑块隐藏的步骤）", times: "{n} 次。",
      outOf: "{v}%（{k} / {n}）", ticket1: " 张工单", ticketN: " 张工单",
      rare: "{n} 个少见步骤不在图中；", labFreq: "标签：工单数",
      labWait: "标签：等待{q}（{u}）", median: "中位数", p90: "90 分位",
      nVariants: "共 {n} 个变体", topVariants: "；列出最常见的 {k} 个",
      clickRow: "。点击一行查看其工单。",
      vTickets: "工单数", vShare: "占比", vMedian: "周期中位数（{u}）",
      vDev: "偏离 SOP 的工单", vSteps: "步骤", variant: "变体 #{k}（{n} 个步骤）",
      byAct: "按活动着色", byDep: "按部门着色", calTime: "日历时间",
      sinceOpen: "自工单创建起的小时数", noEvents: "没有可绘制的事件。",
      axBusiness: "{n} 工作小时", axHours: "{n} 小时", byStart: "按创建时间排列的工单",
      none: "（无）",
      dotNote: "{n} 张工单中的 {k} 张（按创建顺序均匀抽取），{e} 个事件",
      dotOut: "（{n} 个超出时间 1–99 百分位的事件画在边缘）",
      dotClick: "。点击一行查看该工单。",
      ticketOf: "工单 {a}", oneOfDots: "点图中的一张工单。",
      painHint: "在探索器中显示示例工单", pain: "痛点 {a}",
      painNote: "共 {n} 张工单；列出痛点分析作为示例保留的代价最高的 {k} 张。"
    }
  };
  var STR = S[D.lang] || S.en;
  function tx(key, vars) {  // the phrase, with {name} filled from vars
    return String(STR[key]).replace(/\{(\w+)\}/g, function (m, k) {
      return vars && vars[k] !== undefined ? String(vars[k]) : m;
    });
  }
  var section = document.getElementById("explorer");
  if (!D.nodes.length) { return; }
  section.hidden = false;

  function el(tag, attrs, text) {
    var e = document.createElement(tag);
    if (attrs) { Object.keys(attrs).forEach(function (k) { e.setAttribute(k, attrs[k]); }); }
    if (text !== undefined && text !== null) { e.textContent = String(text); }
    return e;
  }
  function sv(tag, attrs, text) {
    var e = document.createElementNS(SVGNS, tag);
    if (attrs) { Object.keys(attrs).forEach(function (k) { e.setAttribute(k, attrs[k]); }); }
    if (text !== undefined && text !== null) { e.textContent = String(text); }
    return e;
  }
  function fmtInt(n) { return Number(n).toLocaleString("en-US"); }
  function fmtH(h) {
    if (h === null || h === undefined) { return ""; }
    return h >= 100 ? fmtInt(Math.round(h)) + " h" : (Math.round(h * 10) / 10) + " h";
  }
  function pct(x) { return (Math.round(x * 1000) / 10) + "%"; }
  var unit = D.basis === "business" ? STR.business : STR.hours;
  var colourCache = {};
  function colour(i) {
    if (!colourCache[i]) { colourCache[i] = "hsl(" + ((i * 137.508) % 360).toFixed(1) + ",62%,48%)"; }
    return colourCache[i];
  }

  // ------------------------------------------------------------------ layout of the panel
  var tabs = el("div", { "class": "x-tabs" });
  var views = {};
  STR.tabs.forEach(function (name, k) {
    var b = el("button", { type: "button", "data-view": String(k) }, name);
    tabs.appendChild(b);
    b.addEventListener("click", function () { show(k); });
  });
  root.appendChild(tabs);
  var mapView = el("div", { "class": "x-view", id: "svcm-x-map" });
  var varView = el("div", { "class": "x-view", id: "svcm-x-variants" });
  var dotView = el("div", { "class": "x-view", id: "svcm-x-dots" });
  views[0] = mapView; views[1] = varView; views[2] = dotView;
  root.appendChild(mapView); root.appendChild(varView); root.appendChild(dotView);
  var panel = el("div", { "class": "x-panel", id: "svcm-x-tickets" });
  root.appendChild(panel);
  var dotsDrawn = false;
  function show(k) {
    Object.keys(views).forEach(function (i) { views[i].hidden = Number(i) !== k; });
    Array.prototype.forEach.call(tabs.children, function (b, i) {
      b.className = i === k ? "on" : "";
    });
    if (k === 2 && !dotsDrawn) { dotsDrawn = true; drawDots(); }
  }

  // ------------------------------------------------------------------ ticket table
  var cols = D.cases.cols, rows = D.cases.rows, codes = D.cases.codes || {};
  cols.forEach(function (c, j) {  // decode the text columns stored as codes, once
    var names = codes[c];
    if (!names) { return; }
    rows.forEach(function (r) {
      var v = r[j];
      if (Array.isArray(v)) { r[j] = v.map(function (x) { return names[x]; }).join(" \u2192 "); }
      else if (v !== null) { r[j] = names[v]; }
    });
  });
  var headers = {
    ticket: STR.hTicket, start: STR.hOpened, channel: STR.hChannel, priority: STR.hPriority,
    departments: STR.hDeps, events: STR.hEvents, cycle_hours: tx("hCycle", { u: unit }),
    rework: STR.hRework, deviations: STR.hDev, variant: STR.hVariant
  };
  function showTickets(title, note, idx, filter) {
    while (panel.firstChild) { panel.removeChild(panel.firstChild); }
    panel.appendChild(el("h3", null, title));
    panel.appendChild(el("p", { "class": "note" }, note));
    var wrap = el("div", { "class": "x-scroll" });
    var table = el("table", { "class": "x-tickets" });
    var thead = el("thead"), tr = el("tr");
    var numeric = cols.map(function (c, j) {
      return idx.every(function (i) { var v = rows[i][j]; return v === null || typeof v === "number"; });
    });
    var order = idx.slice(), sortCol = -1, asc = true;
    var tbody = el("tbody");
    function fill() {
      while (tbody.firstChild) { tbody.removeChild(tbody.firstChild); }
      order.forEach(function (i) {
        var r = el("tr");
        cols.forEach(function (c, j) {
          var v = rows[i][j];
          var td = el("td", { "class": numeric[j] ? "num" : (c === "departments" ? "long" : "nw") },
            v === null ? "" : (numeric[j] && c !== "variant" ? fmtInt(v) : v));
          r.appendChild(td);
        });
        tbody.appendChild(r);
      });
    }
    cols.forEach(function (c, j) {
      var th = el("th", { "class": "x-sort" + (numeric[j] ? " num" : "") }, headers[c] || c);
      th.addEventListener("click", function () {
        asc = sortCol === j ? !asc : !numeric[j];
        sortCol = j;
        order.sort(function (a, b) {
          var x = rows[a][j], y = rows[b][j];
          if (x === y) { return a - b; }
          if (x === null) { return 1; }
          if (y === null) { return -1; }
          var r = numeric[j] ? x - y : String(x).localeCompare(String(y));
          return asc ? r : -r;
        });
        Array.prototype.forEach.call(tr.children, function (h, k) {
          h.className = "x-sort" + (numeric[k] ? " num" : "") + (k === j ? (asc ? " asc" : " desc") : "");
        });
        fill();
      });
      tr.appendChild(th);
    });
    thead.appendChild(tr); table.appendChild(thead); table.appendChild(tbody);
    fill();
    wrap.appendChild(table); panel.appendChild(wrap);
    if (filter && filter.py) {
      panel.appendChild(el("h3", null, STR.python));
      panel.appendChild(el("pre", null, "import svcmining as svc\n" +
        (filter.kept ? filter.kept + "  # " + STR.kept + "\n" : "") + filter.py));
    }
    if (filter && filter.yaml) {
      panel.appendChild(el("h3", null, STR.yaml));
      panel.appendChild(el("pre", null, filter.yaml));
    }
  }
  function ticketNote(nt, shown, by) {
    if (nt <= shown) { return tx(nt === 1 ? "oneTicket" : "nTickets", { n: fmtInt(nt) }); }
    return tx("listed", { n: fmtInt(nt), k: fmtInt(shown), by: by, top: fmtInt(D.top_tickets) });
  }

  // ------------------------------------------------------------------ process map
  var bar = el("div", { "class": "x-bar" });
  var measure = el("select", { id: "svcm-x-measure" });
  [["freq", STR.mFreq], ["p50", STR.mP50], ["p90", STR.mP90]].forEach(function (o) {
    measure.appendChild(el("option", { value: o[0] }, o[1]));
  });
  function slider(id, label, value) {
    var lab = el("label", null, label + " ");
    var input = el("input", { type: "range", min: "10", max: "100", step: "10",
      value: String(value), id: id });
    var out = el("output", null, value + "%");
    lab.appendChild(input); lab.appendChild(el("span", null, " ")); lab.appendChild(out);
    bar.appendChild(lab);
    return { input: input, out: out };
  }
  var lm = el("label", null, STR.measure + " "); lm.appendChild(measure); bar.appendChild(lm);
  var actS = slider("svcm-x-activities", STR.activities, 100);
  var pathS = slider("svcm-x-paths", STR.paths, D.edges.length > 40 ? 30 : 100);
  var sopBox = null;
  if (D.sop) {
    var ls = el("label", null, " " + STR.overlay);
    sopBox = el("input", { type: "checkbox", id: "svcm-x-sop" });
    ls.insertBefore(sopBox, ls.firstChild);
    bar.appendChild(ls);
  }
  var reset = el("button", { type: "button" }, STR.reset);
  bar.appendChild(reset);
  var status = el("span", { "class": "note", id: "svcm-x-status" });
  bar.appendChild(status);
  mapView.appendChild(bar);
  var box = el("div", { "class": "x-map" });
  box.style.height = Math.round(Math.min(Math.max(D.height + 12, 360), 820)) + "px";
  mapView.appendChild(box);
  var svg = sv("svg", { role: "img", "aria-label": STR.mapLabel });
  box.appendChild(svg);
  var defs = sv("defs");
  ["n", "x", "c", "s"].forEach(function (k) {
    var m = sv("marker", { id: "svcm-ah-" + k, viewBox: "0 0 10 10", refX: "9", refY: "5",
      markerWidth: "9", markerHeight: "9", markerUnits: "userSpaceOnUse",
      orient: "auto-start-reverse" });
    var fill = { n: "#6e7781", x: "#d62728", c: "#2b8a3e", s: "#d9480f" }[k];
    m.appendChild(sv("path", { d: "M0,0L10,5L0,10z", fill: fill }));
    defs.appendChild(m);
  });
  svg.appendChild(defs);
  var scene = sv("g");
  svg.appendChild(scene);
  // edge labels on a layer of their own, above every edge: a click on a label is its edge's
  var gEdges = sv("g"), gNodes = sv("g"), gLabels = sv("g");
  scene.appendChild(gEdges); scene.appendChild(gNodes); scene.appendChild(gLabels);

  var nodeById = {};
  var actNodes = D.nodes.filter(function (n) { return n.kind === "activity"; });
  actNodes.sort(function (a, b) { return b.count - a.count; });
  var selected = null;
  function select(g) {
    if (selected) { selected.classList.remove("sel"); }
    selected = g;
    if (g) { g.classList.add("sel"); }
  }
  D.nodes.forEach(function (n) {
    var g = sv("g", { "class": "x-node x-" + n.kind });
    if (n.kind === "activity") {
      g.appendChild(sv("rect", { x: n.x, y: n.y, width: n.w, height: n.h, rx: 5 }));
      g.appendChild(sv("text", { x: n.x + n.w / 2, y: n.y + n.h * 0.34 }, n.id));
      var sub = sv("text", { "class": "sub", x: n.x + n.w / 2, y: n.y + n.h * 0.72 });
      g.appendChild(sub);
      n.sub = sub;
      g.addEventListener("click", function (ev) {
        ev.stopPropagation(); select(g);
        showTickets(tx("step", { a: n.id }) + (n.dep ? " (" + n.dep + ")" : ""),
          tx("events", { n: fmtInt(n.count) }) + ticketNote(n.nt, n.tk.length, STR.byCycle),
          n.tk, n.f);
      });
    } else {
      g.appendChild(sv("circle", { cx: n.x + n.w / 2, cy: n.y + n.h / 2, r: n.w / 2.4 }));
      var t = sv("title", null, n.kind === "start" ? STR.start : STR.end); g.appendChild(t);
    }
    n.g = g;
    nodeById[n.id] = n;
    gNodes.appendChild(g);
  });
  // an edge of the activity slider's maps that the full map does not have: a curve of its own
  var fullRoute = {};
  D.edges.forEach(function (e) { fullRoute[e.s + "\u0000" + e.t] = e; });
  function route(e) {
    var f = fullRoute[e.s + "\u0000" + e.t];
    if (f && f.d !== undefined) { e.d = f.d; e.lx = f.lx; e.ly = f.ly; return; }
    var a = nodeById[e.s], b = nodeById[e.t];
    var p0, p1, p2, p3;
    var tb = D.direction !== "LR";
    if (a === b) {
      var rx = a.x + a.w, cy = a.y + a.h / 2;
      p0 = [rx, cy - 5]; p1 = [rx + 32, cy - 22]; p2 = [rx + 32, cy + 22]; p3 = [rx, cy + 5];
    } else if (tb ? b.y > a.y + a.h / 2 : b.x > a.x + a.w / 2) {  // along the flow
      if (tb) {
        p0 = [a.x + a.w / 2, a.y + a.h]; p3 = [b.x + b.w / 2, b.y];
        var dy = (p3[1] - p0[1]) / 2;
        p1 = [p0[0], p0[1] + dy]; p2 = [p3[0], p3[1] - dy];
      } else {
        p0 = [a.x + a.w, a.y + a.h / 2]; p3 = [b.x, b.y + b.h / 2];
        var dx = (p3[0] - p0[0]) / 2;
        p1 = [p0[0] + dx, p0[1]]; p2 = [p3[0] - dx, p3[1]];
      }
    } else if (tb) {  // back: around the right-hand side
      p0 = [a.x + a.w, a.y + a.h / 2]; p3 = [b.x + b.w, b.y + b.h / 2];
      var ox = Math.max(p0[0], p3[0]) + 30 + Math.abs(p3[1] - p0[1]) * 0.12;
      p1 = [ox, p0[1]]; p2 = [ox, p3[1]];
    } else {  // back: below
      p0 = [a.x + a.w / 2, a.y + a.h]; p3 = [b.x + b.w / 2, b.y + b.h];
      var oy = Math.max(p0[1], p3[1]) + 30 + Math.abs(p3[0] - p0[0]) * 0.12;
      p1 = [p0[0], oy]; p2 = [p3[0], oy];
    }
    function f1(v) { return v.toFixed(1); }
    e.d = "M" + f1(p0[0]) + "," + f1(p0[1]) + "C" + [p1, p2, p3].map(function (p) {
      return f1(p[0]) + "," + f1(p[1]);
    }).join(" ");
    e.lx = (p0[0] + 3 * p1[0] + 3 * p2[0] + p3[0]) / 8;
    e.ly = (p0[1] + 3 * p1[1] + 3 * p2[1] + p3[1]) / 8;
  }
  function makeEdge(e) {
    if (e.d === undefined) { route(e); }
    var g = sv("g", { "class": "x-edge" });
    var line = sv("path", { "class": "x-line", d: e.d });
    var hit = sv("path", { "class": "x-hit", d: e.d });
    var lab = sv("text", { x: e.lx, y: e.ly });
    var gl = sv("g", { "class": "x-edge x-lab", "data-edge": e.s + " \u2192 " + e.t });
    g.appendChild(line); g.appendChild(hit); gl.appendChild(lab);
    e.g = g; e.gl = gl; e.line = line; e.lab = lab;
    function open(ev) {
      ev.stopPropagation(); select(g);
      var waits = e.p50 === null ? "" : tx("waits", { a: fmtH(e.p50), b: fmtH(e.p90) });
      showTickets(tx("transition", { a: e.s + " \u2192 " + e.t }) +
        (e.f && e.f.kept ? STR.bridged : ""),
        tx("times", { n: fmtInt(e.count) }) + waits + " " +
        ticketNote(e.nt, e.tk.length, e.p50 === null ? STR.byCycle : STR.byWait),
        e.tk, e.f || null);
    }
    g.addEventListener("click", open);
    gl.addEventListener("click", open);
  }
  D.edges.forEach(makeEdge);
  var levelOf = {};
  (D.levels || []).forEach(function (lv) {
    levelOf[lv.k] = lv.edges;
    lv.edges.forEach(function (e) { if (e.f) { e.f.kept = lv.kept; } });
  });
  var drawnSet = null;

  function redraw() {
    var mode = measure.value;
    var nAct = Math.max(1, Math.ceil(actNodes.length * actS.input.value / 100));
    actS.out.textContent = tx("outOf", { v: actS.input.value, k: nAct, n: actNodes.length });
    var visible = {};
    visible["\u25b6"] = true; visible["\u25a0"] = true;
    actNodes.forEach(function (n, i) { visible[n.id] = i < nAct; });
    var edges = levelOf[nAct] || D.edges;  // with steps hidden: the map of the log without them
    if (edges !== drawnSet) {
      while (gEdges.firstChild) { gEdges.removeChild(gEdges.firstChild); }
      while (gLabels.firstChild) { gLabels.removeChild(gLabels.firstChild); }
      edges.forEach(function (e) {
        if (!e.g) { makeEdge(e); }
        gEdges.appendChild(e.g); gLabels.appendChild(e.gl);
      });
      drawnSet = edges;
    }
    var cand = edges.filter(function (e) { return visible[e.s] && visible[e.t]; });
    cand.sort(function (a, b) { return b.count - a.count; });
    var nPath = Math.max(1, Math.ceil(cand.length * pathS.input.value / 100));
    var keep = new Set(cand.slice(0, nPath));
    // Disco-style: every shown step keeps its most frequent way in and way out
    var bestIn = {}, bestOut = {};
    cand.forEach(function (e) {
      if (e.s !== e.t) {
        if (!bestOut[e.s]) { bestOut[e.s] = e; }
        if (!bestIn[e.t]) { bestIn[e.t] = e; }
      }
    });
    Object.keys(bestIn).forEach(function (k) { keep.add(bestIn[k]); });
    Object.keys(bestOut).forEach(function (k) { keep.add(bestOut[k]); });
    pathS.out.textContent = tx("outOf", { v: pathS.input.value, k: keep.size, n: cand.length });
    D.nodes.forEach(function (n) {
      n.g.style.display = visible[n.id] ? "" : "none";
      if (n.sub) {
        n.sub.textContent = (n.dep ? n.dep + " \u00b7 " : "") + fmtInt(n.cases) +
          (n.cases === 1 ? STR.ticket1 : STR.ticketN);
      }
    });
    var shown = edges.filter(function (e) { return keep.has(e); });
    var maxV = 0;
    shown.forEach(function (e) {
      var v = mode === "freq" ? e.cases : e[mode];
      if (v !== null && v > maxV) { maxV = v; }
    });
    var sop = sopBox && sopBox.checked;
    edges.forEach(function (e) {
      if (!keep.has(e)) { e.g.style.display = e.gl.style.display = "none"; return; }
      e.g.style.display = e.gl.style.display = "";
      var v = mode === "freq" ? e.cases : e[mode];
      var r = maxV > 0 && v !== null ? v / maxV : 0;
      e.line.style.strokeWidth = (1 + 5 * Math.sqrt(r)).toFixed(2) + "px";
      var cls = "x-edge";
      if (sop && e.sop === "extra") { cls += " extra"; }
      if (sop && e.sop === "conforming") { cls += " conform"; }
      if (e.g === selected) { cls += " sel"; }
      e.g.setAttribute("class", cls);
      var mk = sop && e.sop === "extra" ? "x" : (sop && e.sop === "conforming" ? "c" : "n");
      e.line.setAttribute("marker-end", "url(#svcm-ah-" + mk + ")");
      if (mode === "freq") {
        e.line.style.stroke = "";
        e.lab.textContent = fmtInt(e.cases);
      } else {
        e.line.style.stroke = v === null || (sop && e.sop) ? "" :
          "hsl(8," + (15 + 65 * r).toFixed(0) + "%," + (62 - 27 * r).toFixed(0) + "%)";
        e.lab.textContent = v === null ? "" : fmtH(v);
      }
    });
    status.textContent = (D.dropped.nodes ? tx("rare", { n: D.dropped.nodes }) : "") +
      (mode === "freq" ? STR.labFreq : tx("labWait", { q: mode === "p50" ? STR.median : STR.p90, u: unit }));
  }
  [measure, actS.input, pathS.input].concat(sopBox ? [sopBox] : []).forEach(function (c) {
    c.addEventListener("input", redraw);
    c.addEventListener("change", redraw);
  });

  // zoom and pan on the viewBox
  var vb = { x: 0, y: 0, w: D.width, h: D.height };
  function applyVB() { svg.setAttribute("viewBox", [vb.x, vb.y, vb.w, vb.h].join(" ")); }
  function fit() {  // the whole map, never enlarged more than 1.25 times
    var bw = box.clientWidth || 1100, bh = box.clientHeight || 560;
    var s = Math.max(D.width / bw, D.height / bh, 0.8);
    vb = { x: (D.width - bw * s) / 2, y: (D.height - bh * s) / 2, w: bw * s, h: bh * s };
    applyVB();
  }
  reset.addEventListener("click", fit);
  svg.addEventListener("wheel", function (ev) {
    ev.preventDefault();
    var r = svg.getBoundingClientRect();
    var s = Math.min(vb.w / r.width, vb.h / r.height);
    var ox = vb.x + (vb.w - r.width * s) / 2, oy = vb.y + (vb.h - r.height * s) / 2;
    var px = ox + (ev.clientX - r.left) * s, py = oy + (ev.clientY - r.top) * s;
    var k = ev.deltaY < 0 ? 0.85 : 1 / 0.85;
    vb = { x: px - (px - vb.x) * k, y: py - (py - vb.y) * k, w: vb.w * k, h: vb.h * k };
    applyVB();
  }, { passive: false });
  var drag = null;
  svg.addEventListener("pointerdown", function (ev) {
    if (ev.target.closest && ev.target.closest(".x-node, .x-edge")) { return; }
    drag = { x: ev.clientX, y: ev.clientY, vb: { x: vb.x, y: vb.y, w: vb.w, h: vb.h } };
    box.classList.add("drag");
    svg.setPointerCapture(ev.pointerId);
  });
  svg.addEventListener("pointermove", function (ev) {
    if (!drag) { return; }
    var r = svg.getBoundingClientRect();
    var s = Math.max(drag.vb.w / r.width, drag.vb.h / r.height);
    vb = { x: drag.vb.x - (ev.clientX - drag.x) * s, y: drag.vb.y - (ev.clientY - drag.y) * s,
           w: drag.vb.w, h: drag.vb.h };
    applyVB();
  });
  function endDrag() { drag = null; box.classList.remove("drag"); }
  svg.addEventListener("pointerup", endDrag);
  svg.addEventListener("pointercancel", endDrag);
  fit();
  redraw();

  // ------------------------------------------------------------------ variants
  var vNote = tx("nVariants", { n: fmtInt(D.n_variants || 0) }) +
    (D.dropped.variants ? tx("topVariants", { k: fmtInt(D.variants.length) }) : "") + STR.clickRow;
  varView.appendChild(el("p", { "class": "note" }, vNote));
  var vt = el("table", { id: "svcm-x-variant-table" });
  var vh = el("tr");
  var vcols = ["#", STR.vTickets, STR.vShare, tx("vMedian", { u: unit })];
  if (D.variants.length && D.variants[0].dev !== null) { vcols.push(STR.vDev); }
  vcols.push(STR.vSteps);
  vcols.forEach(function (c, j) { vh.appendChild(el("th", j < vcols.length - 1 ? { "class": "num" } : null, c)); });
  var vhead = el("thead"); vhead.appendChild(vh); vt.appendChild(vhead);
  var vbody = el("tbody");
  D.variants.forEach(function (v, k) {
    var r = el("tr", { "class": "x-click" });
    var cells = [String(k + 1), fmtInt(v.cases), pct(v.share), fmtH(v.median)];
    if (v.dev !== null) { cells.push(fmtInt(v.dev)); }
    cells.forEach(function (c) { r.appendChild(el("td", { "class": "num" }, c)); });
    r.appendChild(el("td", { "class": "long" }, v.seq.map(function (a) { return D.acts[a]; }).join(" \u2192 ")));
    r.addEventListener("click", function () {
      showTickets(tx("variant", { k: k + 1, n: v.seq.length }),
        ticketNote(v.nt, v.tk.length, STR.byCycle), v.tk, v.f);
    });
    vbody.appendChild(r);
  });
  vt.appendChild(vbody);
  var vwrap = el("div", { "class": "x-scroll" }); vwrap.appendChild(vt);
  varView.appendChild(vwrap);

  // ------------------------------------------------------------------ dotted chart
  var dbar = el("div", { "class": "x-bar" });
  var colourBy = el("select", { id: "svcm-x-colour" });
  colourBy.appendChild(el("option", { value: "a" }, STR.byAct));
  if (D.dots && D.dots.d) { colourBy.appendChild(el("option", { value: "d" }, STR.byDep)); }
  var timeAxis = el("select", { id: "svcm-x-time" });
  timeAxis.appendChild(el("option", { value: "t" }, STR.calTime));
  if (D.dots && D.dots.b) { timeAxis.appendChild(el("option", { value: "b" }, STR.business)); }
  timeAxis.appendChild(el("option", { value: "r" }, STR.sinceOpen));
  dbar.appendChild(colourBy); dbar.appendChild(timeAxis);
  dotView.appendChild(dbar);
  var canvas = el("canvas", { "class": "x-dots", id: "svcm-x-canvas" });
  var legend = el("div", { "class": "x-legend" });
  var dnote = el("p", { "class": "note" });
  dotView.appendChild(canvas); dotView.appendChild(legend); dotView.appendChild(dnote);
  var dotRows = [];
  function drawDots() {
    var P = D.dots;
    if (!P) { dnote.textContent = STR.noEvents; return; }
    var ctx = canvas.getContext("2d");
    var W = canvas.clientWidth || 1000, H = canvas.clientHeight || 380;
    var dpr = window.devicePixelRatio || 1;
    canvas.width = W * dpr; canvas.height = H * dpr;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, W, H);
    var xs = timeAxis.value === "b" ? P.b : P.t;
    if (timeAxis.value === "r") {  // relative: hours since each ticket's first event
      var first = {};
      P.t.forEach(function (t, i) {
        var c = P["case"][i];
        if (!(c in first) || t < first[c]) { first[c] = t; }
      });
      xs = P.t.map(function (t, i) { return (t - first[P["case"][i]]) / 60; });
    }
    var tickets = [];
    var seen = {};
    P["case"].forEach(function (c) { if (!(c in seen)) { seen[c] = tickets.length; tickets.push(c); } });
    dotRows = tickets;
    // the axis spans the 1st to 99th percentile: a few outlying dots do not squeeze the
    // rest into a corner; they sit on the edge
    var sorted = xs.slice().sort(function (a, b) { return a - b; });
    var lo = sorted[Math.floor(0.01 * (sorted.length - 1))];
    var hi = sorted[Math.ceil(0.99 * (sorted.length - 1))];
    if (hi <= lo) { lo = sorted[0]; hi = sorted[sorted.length - 1]; }
    if (hi <= lo) { hi = lo + 1; }
    var outside = 0;
    var L = 70, R = 12, T = 8, B = 26;
    var pw = W - L - R, ph = H - T - B;
    ctx.strokeStyle = "#d0d7de"; ctx.strokeRect(L, T, pw, ph);
    ctx.fillStyle = "#57606a"; ctx.font = "11px sans-serif";
    for (var k = 0; k <= 4; k++) {
      var xv = lo + (hi - lo) * k / 4, xp = L + pw * k / 4;
      var text;
      if (timeAxis.value === "b") { text = tx("axBusiness", { n: Math.round(xv) }); }
      else if (timeAxis.value === "r") { text = tx("axHours", { n: Math.round(xv) }); }
      else { text = new Date(P.t0 + xv * 60000).toISOString().slice(0, 10); }
      ctx.textAlign = k === 0 ? "left" : (k === 4 ? "right" : "center");
      ctx.fillText(text, xp, H - 8);
    }
    ctx.save(); ctx.translate(14, T + ph / 2); ctx.rotate(-Math.PI / 2);
    ctx.textAlign = "center"; ctx.fillText(STR.byStart, 0, 0); ctx.restore();
    var rowH = ph / Math.max(tickets.length, 1);
    var rad = Math.max(1.2, Math.min(3.5, rowH * 0.45));
    var key = colourBy.value === "d" ? P.d : P.a;
    var names = colourBy.value === "d" ? D.deps : D.acts;
    var used = {};
    for (var i = 0; i < xs.length; i++) {
      var c = key[i];
      used[c] = (used[c] || 0) + 1;
      ctx.fillStyle = c < 0 ? "#999" : colour(c);
      ctx.beginPath();
      var xv1 = xs[i];
      if (xv1 < lo || xv1 > hi) { outside++; xv1 = Math.min(Math.max(xv1, lo), hi); }
      ctx.arc(L + pw * (xv1 - lo) / (hi - lo), T + rowH * (seen[P["case"][i]] + 0.5), rad, 0, 6.2832);
      ctx.fill();
    }
    while (legend.firstChild) { legend.removeChild(legend.firstChild); }
    Object.keys(used).map(Number).sort(function (a, b) { return used[b] - used[a]; })
      .slice(0, 30).forEach(function (c) {
        var s = el("span", null);
        var dot = el("i"); dot.style.background = c < 0 ? "#999" : colour(c);
        s.appendChild(dot); s.appendChild(document.createTextNode(c < 0 ? STR.none : names[c]));
        legend.appendChild(s);
      });
    dnote.textContent = tx("dotNote", { k: fmtInt(tickets.length), n: fmtInt(D.n_cases),
      e: fmtInt(xs.length) }) + (outside ? tx("dotOut", { n: fmtInt(outside) }) : "") + STR.dotClick;
    canvas.onclick = function (ev) {
      var r = canvas.getBoundingClientRect();
      var row = Math.floor((ev.clientY - r.top - T) / rowH);
      if (row >= 0 && row < dotRows.length) {
        showTickets(tx("ticketOf", { a: rows[dotRows[row]][0] }), STR.oneOfDots, [dotRows[row]], null);
      }
    };
  }
  // the report's ranked pain points (a later section): a click on a row lists its tickets
  function hookPains() {
    var trs = document.querySelectorAll("#pain_points table tbody tr");
    (D.pains || []).forEach(function (p, i) {
      var tr = trs[i];
      if (!tr || !p.tk.length) { return; }
      tr.classList.add("x-click");
      tr.title = STR.painHint;
      tr.addEventListener("click", function () {
        show(0);
        showTickets(tx("pain", { a: p.name }),
          tx("painNote", { n: fmtInt(p.nt), k: fmtInt(p.tk.length) }), p.tk, p.f);
        panel.scrollIntoView({ block: "start" });
      });
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", hookPains);
  } else { hookPains(); }
  colourBy.addEventListener("change", drawDots);
  timeAxis.addEventListener("change", drawDots);
  show(0);
}());
