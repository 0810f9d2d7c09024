/* The results page: progress against the results framework, from GET /api/v1/results/framework,
   /api/v1/results/indicators, /api/v1/results/report and /api/v1/places.
   * period, place and part (a node of the framework) selectors, kept in the page's address;
   * the indicators' statuses as tiles (the status written out, never told by colour alone);
   * the framework as a tree (objectives, enablers, cross-cutting priorities, the results chain beneath), each
     indicator with its status and the reason;
   * the chosen indicator: baseline, target and actual, its months as a uPlot chart with the target as a line, its
     breakdowns as bar charts, and every chart's figures as a table;
   * links to the report as XLSX and HTML.
   Every request goes to this server; nothing is fetched from anywhere else. */
(function () {
  "use strict";

  var STATUSES = ["on track", "at risk", "off track", "no target", "no data"];
  var TOP_GROUPS = [
    ["objective", "Objectives"], ["enabler", "Enablers"], ["cross_cutting", "Cross-cutting priorities"]
  ];
  var KIND_LABELS = {
    objective: "objective", enabler: "enabler", cross_cutting: "cross-cutting priority",
    outcome_area: "outcome area", long_term_outcome: "long-term outcome", short_term_outcome: "short-term outcome",
    output: "output", activity: "activity", project: "project"
  };
  var DIMENSION_LABELS = {
    place: "Place", sex: "Sex", age_group: "Age group", population_group: "Population group", reason: "Reason",
    disability: "Disability", sector: "Sector"
  };
  var KEY_LABELS = { f: "female", m: "male" };
  var SOURCE_LABELS = {
    computed: "computed from the data", reported: "reported", framework: "stated in the framework",
    children: "added up from the indicators below"
  };
  var LEVEL_GROUPS = ["Countries", "Regions (admin level 1)", "Districts (admin level 2)", "Admin level 3"];
  var ACTUAL = "#0072B2";
  var TARGET = "#B85000";
  var BAR = "#0072B2";

  var el = OTM.el;
  var svg = OTM.svg;
  var setStatus = OTM.setStatus;

  var periodSelect = document.getElementById("period");
  var placeSelect = document.getElementById("place");
  var partSelect = document.getElementById("part");

  var state = {
    framework: null, // /results/framework
    nodes: {}, // id -> node
    places: {}, // pcode -> place properties
    report: null, // the latest /results/report answer
    results: {}, // indicator code -> { indicator result, section }
    indicator: null, // the chosen indicator's code
    chart: null,
    ticket: 0
  };

  // --- helpers -------------------------------------------------------------------------------

  function statusClass(status) { return "status-" + status.replace(/ /g, "-"); }

  function badge(status) { return el("span", { "class": "badge " + statusClass(status) }, status); }

  function formatValue(value, result) {
    if (value === null || value === undefined) { return "–"; }
    if (result.measure === "percentage") { return OTM.formats.oneDecimal.format(value) + " %"; }
    if (Math.abs(value) >= 100 || Number.isInteger(value)) { return OTM.formats.whole.format(value); }
    return OTM.formats.upToTwoDecimals.format(value);
  }

  function cellValue(value, suppressed, result) {
    if (suppressed) { return "suppressed"; }
    return formatValue(value, result);
  }

  function placeLabel(pcode) {
    var place = state.places[pcode];
    return place ? place.name + " (" + pcode + ")" : pcode;
  }

  function keyLabel(dimension, key) {
    if (dimension === "place") { return placeLabel(key); }
    return KEY_LABELS[key] || key;
  }

  // --- selectors -----------------------------------------------------------------------------

  function fromAddress() {
    var params = new URLSearchParams(window.location.search);
    return {
      period: params.get("period"), place: params.get("place"), part: params.get("part"),
      indicator: params.get("indicator")
    };
  }

  function toAddress() {
    var params = [
      ["period", periodSelect.value], ["place", placeSelect.value], ["part", partSelect.value],
      ["indicator", state.indicator]
    ];
    window.history.replaceState(null, "", window.location.pathname + OTM.query(params));
  }

  function hasOption(select, value) {
    return Array.prototype.some.call(select.options, function (o) { return o.value === value; });
  }

  function fillPeriods(definitions, wanted) {
    // the years of the framework's baselines and targets, and this year, each with its quarters
    var now = new Date().getUTCFullYear();
    var years = [now];
    definitions.indicators.forEach(function (ind) {
      (ind.baseline ? [ind.baseline] : []).concat(ind.targets).forEach(function (t) {
        var year = parseInt(t.period.slice(0, 4), 10);
        if (!isNaN(year)) { years.push(year); }
      });
    });
    var first = Math.min.apply(null, years);
    var last = Math.max.apply(null, years);
    periodSelect.textContent = "";
    for (var year = last; year >= first; year--) {
      var group = el("optgroup", { label: String(year) });
      group.appendChild(el("option", { value: String(year) }, year + " (the whole year)"));
      for (var q = 1; q <= 4; q++) {
        group.appendChild(el("option", { value: year + "-Q" + q }, year + " quarter " + q));
      }
      periodSelect.appendChild(group);
    }
    if (wanted && !hasOption(periodSelect, wanted)) {
      periodSelect.insertBefore(el("option", { value: wanted }, wanted), periodSelect.firstChild);
    }
    periodSelect.value = wanted || String(Math.min(Math.max(now, first), last));
    periodSelect.disabled = false;
  }

  function fillPlaces(collection, wanted) {
    placeSelect.textContent = "";
    placeSelect.appendChild(el("option", { value: "" }, "All places (the whole programme)"));
    var groups = {};
    collection.features.forEach(function (feature) {
      var p = feature.properties;
      state.places[p.pcode] = p;
      var level = Math.min(p.admin_level, LEVEL_GROUPS.length - 1);
      if (!groups[level]) { groups[level] = el("optgroup", { label: LEVEL_GROUPS[level] }); }
      groups[level].appendChild(el("option", { value: p.pcode }, p.name + " (" + p.pcode + ")"));
    });
    Object.keys(groups).sort().forEach(function (level) { placeSelect.appendChild(groups[level]); });
    placeSelect.value = wanted && hasOption(placeSelect, wanted.toUpperCase()) ? wanted.toUpperCase() : "";
    placeSelect.disabled = false;
  }

  function fillParts(framework, wanted) {
    partSelect.textContent = "";
    partSelect.appendChild(el("option", { value: "" }, "The whole framework"));
    framework.nodes.forEach(function (node) {
      var indent = new Array(node.depth + 1).join("\u00a0\u00a0\u00a0");
      var title = node.title.length > 60 ? node.title.slice(0, 59) + "…" : node.title;
      partSelect.appendChild(el("option", { value: node.id }, indent + node.id + " " + title));
    });
    partSelect.value = wanted && state.nodes[wanted] ? wanted : "";
    partSelect.disabled = false;
  }

  function downloadLinks() {
    var params = OTM.query([["period", periodSelect.value], ["place", placeSelect.value], ["part", partSelect.value]]);
    document.getElementById("download-xlsx").setAttribute("href", OTM.API + "/results/report.xlsx" + params);
    document.getElementById("download-html").setAttribute("href", OTM.API + "/results/report.html" + params);
  }

  // --- tiles ---------------------------------------------------------------------------------

  function renderTiles(report) {
    var tiles = document.getElementById("status-tiles");
    tiles.textContent = "";
    STATUSES.forEach(function (status) {
      var n = report.status_counts[status] || 0;
      var tile = el("li", { "class": "status-tile " + statusClass(status), "data-status": status, "data-count": String(n) });
      tile.appendChild(el("span", { "class": "tile-label" }, status));
      tile.appendChild(el("span", { "class": "tile-count" }, String(n)));
      tiles.appendChild(tile);
    });
  }

  // --- the tree ------------------------------------------------------------------------------

  function indicatorsBelow(node) {
    // the report's results of this node and of every node beneath it
    var out = [];
    var todo = [node.id];
    while (todo.length) {
      var current = state.nodes[todo.shift()];
      if (!current) { continue; }
      current.indicators.forEach(function (code) { if (state.results[code]) { out.push(state.results[code].result); } });
      todo = todo.concat(current.children);
    }
    return out;
  }

  function countsText(results) {
    var counts = {};
    results.forEach(function (r) { counts[r.status] = (counts[r.status] || 0) + 1; });
    var parts = STATUSES.filter(function (s) { return counts[s]; }).map(function (s) { return counts[s] + " " + s; });
    return results.length + " indicator" + (results.length === 1 ? "" : "s") + ": " + parts.join(", ");
  }

  function renderIndicatorItem(result) {
    var item = el("li", { "class": "indicator-item", "data-indicator": result.indicator, "data-status": result.status });
    var button = el("button", {
      type: "button", "class": "indicator-button", "data-indicator": result.indicator,
      "aria-pressed": result.indicator === state.indicator ? "true" : "false"
    });
    button.appendChild(badge(result.status));
    button.appendChild(document.createTextNode(result.indicator + ": " + result.name));
    button.addEventListener("click", function () { chooseIndicator(result.indicator, true); });
    item.appendChild(button);
    item.appendChild(el("p", { "class": "indicator-reason" }, result.reason));
    return item;
  }

  function renderNode(node) {
    var li = el("li", { "class": "node", "data-node": node.id, "data-kind": node.kind });
    var below = indicatorsBelow(node);
    var own = node.indicators.filter(function (code) { return state.results[code]; });
    var children = node.children.filter(function (id) { return state.visible[id]; });
    var label = function (parent) {
      parent.appendChild(el("span", { "class": "node-id" }, node.id));
      parent.appendChild(document.createTextNode(" " + node.title + " "));
      parent.appendChild(el("span", { "class": "node-kind" }, "(" + (KIND_LABELS[node.kind] || node.kind) + ")"));
      if (below.length) { parent.appendChild(el("span", { "class": "node-counts" }, countsText(below))); }
    };
    if (!own.length && !children.length) {
      var leaf = el("div", { "class": "node-leaf" });
      label(leaf);
      li.appendChild(leaf);
      return li;
    }
    var details = el("details", { "data-node": node.id });
    if (below.length) { details.setAttribute("open", ""); }
    var summary = el("summary");
    label(summary);
    details.appendChild(summary);
    if (node.statement) { details.appendChild(el("p", { "class": "node-statement" }, node.statement)); }
    if (own.length) {
      var list = el("ul", { "class": "indicator-list", "aria-label": "Indicators of " + node.id });
      own.forEach(function (code) { list.appendChild(renderIndicatorItem(state.results[code].result)); });
      details.appendChild(list);
    }
    if (children.length) {
      var sub = el("ul", { "class": "node-children" });
      children.forEach(function (id) { sub.appendChild(renderNode(state.nodes[id])); });
      details.appendChild(sub);
    }
    li.appendChild(details);
    return li;
  }

  function renderTree() {
    var box = document.getElementById("tree");
    box.textContent = "";
    var part = partSelect.value;
    state.visible = {};
    state.framework.nodes.forEach(function (n) { state.visible[n.id] = !part; });
    if (part) {
      var todo = [part];
      while (todo.length) {
        var id = todo.shift();
        state.visible[id] = true;
        todo = todo.concat(state.nodes[id].children);
      }
      var list = el("ul");
      list.appendChild(renderNode(state.nodes[part]));
      box.appendChild(list);
      return;
    }
    TOP_GROUPS.forEach(function (group) {
      var tops = state.framework.nodes.filter(function (n) { return n.kind === group[0] && n.parent === null; });
      if (!tops.length) { return; }
      var heading = el("h3", { id: "tree-" + group[0] }, group[1]);
      box.appendChild(heading);
      var list = el("ul", { "aria-labelledby": "tree-" + group[0], "data-group": group[0] });
      tops.forEach(function (node) { list.appendChild(renderNode(node)); });
      box.appendChild(list);
    });
  }

  // --- the chosen indicator ------------------------------------------------------------------

  function chooseIndicator(code, fromUser) {
    var found = state.results[code];
    if (!found) { return; }
    state.indicator = code;
    document.querySelectorAll(".indicator-button").forEach(function (button) {
      button.setAttribute("aria-pressed", button.getAttribute("data-indicator") === code ? "true" : "false");
    });
    renderIndicator(found.result, found.section);
    if (fromUser) { toAddress(); }
  }

  function renderIndicator(result, section) {
    var panel = document.getElementById("indicator");
    panel.setAttribute("data-indicator", result.indicator);
    document.getElementById("indicator-title").textContent = result.indicator + ": " + result.name;
    document.getElementById("indicator-path").textContent = section.path.map(function (n) {
      return n.id + " " + n.title;
    }).join(" › ");
    var status = document.getElementById("indicator-status");
    status.textContent = "";
    status.appendChild(badge(result.status));
    status.appendChild(document.createTextNode(" " + result.reason));
    renderFacts(result);
    renderMonths(result);
    renderBreakdowns(result);
  }

  function renderFacts(result) {
    var tbody = document.querySelector("#indicator-facts tbody");
    tbody.textContent = "";
    [["Baseline", result.baseline], ["Target", result.target], ["Actual", result.actual]].forEach(function (pair) {
      var fig = pair[1];
      var tr = el("tr", { "data-figure": pair[0].toLowerCase() });
      tr.appendChild(el("th", { scope: "row" }, pair[0]));
      var td = el("td", { "class": "num" + (fig && fig.suppressed ? " suppressed" : "") },
        fig ? cellValue(fig.value, fig.suppressed, result) : "none");
      tr.appendChild(td);
      tr.appendChild(el("td", {}, fig ? fig.period : "–"));
      tr.appendChild(el("td", {}, fig ? (SOURCE_LABELS[fig.source] || fig.source) : "–"));
      tbody.appendChild(tr);
    });
    var unit = result.unit || result.measure;
    document.querySelector("#indicator-facts caption").textContent =
      "Baseline, target and actual (" + unit + "; the aim is to " + result.direction + ")";
  }

  function renderMonths(result) {
    var container = document.getElementById("months-chart");
    var caption = document.getElementById("months-caption");
    var details = document.getElementById("months-details");
    var tbody = document.querySelector("#months-table tbody");
    tbody.textContent = "";
    if (state.chart) { state.chart.destroy(); state.chart = null; }
    container.textContent = "";
    container.removeAttribute("data-months");
    var months = result.months;
    var target = result.target && result.target.value !== null ? result.target.value : null;
    if (!months.length) {
      container.setAttribute("aria-label", "No monthly figures for " + result.indicator);
      caption.textContent = "No monthly figures: " + (result.actual && result.actual.source === "computed"
        ? "no data in the period's months."
        : "reported indicators are reported per period, not per month.");
      details.hidden = true;
      return;
    }
    details.hidden = false;
    var x = months.map(function (m) { return OTM.monthSeconds(m.month); });
    var values = months.map(function (m) { return m.value; });
    var targets = months.map(function () { return target; });
    var format = function (v) { return formatValue(v, result); };
    var value = OTM.chartValue(format);
    var series = [
      { label: result.indicator, stroke: ACTUAL, width: 2, points: { show: true }, value: value }
    ];
    var data = [x, values];
    if (target !== null) {
      series.push({ label: "Target (" + result.target.period + ")", stroke: TARGET, width: 2, dash: [8, 4], value: value });
      data.push(targets);
    }
    state.chart = OTM.lineChart(container, null, {
      data: data,
      height: 260,
      yLabel: result.unit || result.measure,
      yFormat: format,
      yRange: function (u, min, max) { return [Math.min(0, min), (max || 1) * 1.1]; },
      series: series
    });
    container.setAttribute("data-months", String(months.length));
    var first = OTM.monthLabel(months[0].month);
    var last = OTM.monthLabel(months[months.length - 1].month);
    container.setAttribute("aria-label",
      result.indicator + " month by month from " + first + " to " + last +
      (target !== null ? ", with its target of " + formatValue(target, result) + " as a dashed line" : "") +
      "; the figures are in the table below the chart");
    caption.textContent = "Solid blue line: " + result.indicator + " by month." +
      (target !== null ? " Dashed orange line: the target (" + result.target.period + ")." : " No target is set.");
    document.getElementById("months-table-caption").textContent = result.indicator + " by month";
    months.forEach(function (m) {
      var tr = el("tr", { "data-month": m.month });
      tr.appendChild(el("th", { scope: "row" }, OTM.monthLabel(m.month)));
      tr.appendChild(el("td", { "class": "num" + (m.suppressed ? " suppressed" : "") }, cellValue(m.value, m.suppressed, result)));
      tr.appendChild(el("td", { "class": "num" }, target !== null ? formatValue(target, result) : "–"));
      tbody.appendChild(tr);
    });
  }

  function barChart(result, dimension, rows) {
    var width = 520;
    var left = 190;
    var right = 90;
    var rowHeight = 22;
    var height = rowHeight * rows.length + 8;
    var top = 0;
    rows.forEach(function (r) { if (r.value !== null && r.value > top) { top = r.value; } });
    top = top || 1;
    var chart = svg("svg", {
      "class": "bars", role: "img", width: String(width), height: String(height),
      viewBox: "0 0 " + width + " " + height,
      "aria-label": result.indicator + " by " + (DIMENSION_LABELS[dimension] || dimension).toLowerCase() +
        "; the figures are in the table below"
    });
    rows.forEach(function (r, i) {
      var y = 4 + i * rowHeight;
      var label = keyLabel(dimension, r.key);
      chart.appendChild(svg("text", { x: String(left - 6), y: String(y + 15), "text-anchor": "end" },
        label.length > 28 ? label.slice(0, 27) + "…" : label));
      var w = r.value === null ? 0 : Math.max((width - left - right) * Math.max(r.value, 0) / top, 0);
      chart.appendChild(svg("rect", {
        x: String(left), y: String(y + 3), width: w.toFixed(1), height: String(rowHeight - 7), fill: BAR,
        "data-key": String(r.key)
      }));
      chart.appendChild(svg("text", { x: (left + w + 4).toFixed(1), y: String(y + 15) },
        cellValue(r.value, r.suppressed, result)));
    });
    return chart;
  }

  function renderBreakdowns(result) {
    var box = document.getElementById("breakdowns");
    box.textContent = "";
    var dimensions = Object.keys(result.disaggregation);
    if (!dimensions.length) {
      box.appendChild(el("p", { "class": "note" }, "No breakdowns for this indicator in this period and place."));
      return;
    }
    dimensions.forEach(function (dimension) {
      var rows = result.disaggregation[dimension];
      var name = DIMENSION_LABELS[dimension] || dimension;
      var section = el("section", { "class": "breakdown", "data-dimension": dimension });
      var headingId = "breakdown-title-" + dimension;
      section.setAttribute("aria-labelledby", headingId);
      section.appendChild(el("h3", { id: headingId }, "By " + name.toLowerCase()));
      var figure = el("figure", { "class": "chart-figure" });
      figure.appendChild(barChart(result, dimension, rows));
      section.appendChild(figure);
      var table = el("table", { "class": "data-table breakdown-table", id: "breakdown-" + dimension });
      table.appendChild(el("caption", {}, result.indicator + " by " + name.toLowerCase() + " (the chart's figures)"));
      var head = el("thead");
      var hr = el("tr");
      hr.appendChild(el("th", { scope: "col" }, name));
      hr.appendChild(el("th", { scope: "col", "class": "num" }, "Value"));
      head.appendChild(hr);
      table.appendChild(head);
      var body = el("tbody");
      rows.forEach(function (r) {
        var tr = el("tr", { "data-key": String(r.key) });
        tr.appendChild(el("th", { scope: "row" }, keyLabel(dimension, r.key)));
        tr.appendChild(el("td", { "class": "num" + (r.suppressed ? " suppressed" : "") }, cellValue(r.value, r.suppressed, result)));
        body.appendChild(tr);
      });
      table.appendChild(body);
      section.appendChild(table);
      box.appendChild(section);
    });
  }

  function clearIndicator() {
    if (state.chart) { state.chart.destroy(); state.chart = null; }
    document.getElementById("indicator").removeAttribute("data-indicator");
    document.getElementById("indicator-title").textContent = "Indicator";
    document.getElementById("indicator-path").textContent = "";
    document.getElementById("indicator-status").textContent = "No indicator to show.";
    document.querySelector("#indicator-facts tbody").textContent = "";
    document.querySelector("#months-table tbody").textContent = "";
    document.getElementById("months-chart").textContent = "";
    document.getElementById("months-caption").textContent = "";
    document.getElementById("breakdowns").textContent = "";
  }

  // --- loading -------------------------------------------------------------------------------

  function defaultIndicator(report) {
    // the first with months (a chart to show), else the first
    var first = null;
    var withMonths = null;
    report.sections.forEach(function (s) {
      s.indicators.forEach(function (r) {
        if (!first) { first = r.indicator; }
        if (!withMonths && r.months.length) { withMonths = r.indicator; }
      });
    });
    return withMonths || first;
  }

  function loadReport() {
    var ticket = ++state.ticket;
    OTM.notReady();
    document.getElementById("results-controls").setAttribute("aria-busy", "true");
    setStatus("Computing the report…");
    downloadLinks();
    toAddress();
    var params = [["period", periodSelect.value], ["place", placeSelect.value], ["part", partSelect.value]];
    return OTM.getJSON("/results/report", params).then(function (report) {
      if (ticket !== state.ticket) { return; } // a newer choice superseded this one
      state.report = report;
      state.results = {};
      report.sections.forEach(function (s) {
        s.indicators.forEach(function (r) { state.results[r.indicator] = { result: r, section: s }; });
      });
      if (report.place && placeSelect.value !== report.place && hasOption(placeSelect, report.place)) {
        placeSelect.value = report.place; // a partner's own area, when they chose none
        downloadLinks();
      }
      renderTiles(report);
      renderTree();
      if (!state.results[state.indicator]) { state.indicator = defaultIndicator(report); }
      if (state.indicator) { chooseIndicator(state.indicator, false); } else { clearIndicator(); }
      toAddress();
      var total = Object.keys(state.results).length;
      var where = report.place ? report.place_name + " (" + report.place + ")" : report.place_name;
      setStatus(report.title + ": " + total + " indicator" + (total === 1 ? "" : "s") + " for " + report.period +
        " (" + report.period_start + " to " + report.period_end + "), " + where + "." +
        (report.redacted ? " Counts under " + report.threshold + " are suppressed." : ""));
    }, function (error) {
      if (ticket !== state.ticket) { return; }
      state.report = null;
      state.results = {};
      document.getElementById("status-tiles").textContent = "";
      document.getElementById("tree").textContent = "";
      clearIndicator();
      setStatus("Could not compute the report: " + OTM.errorText(error), true);
    }).then(function () {
      if (ticket === state.ticket) {
        document.getElementById("results-controls").removeAttribute("aria-busy");
        OTM.ready();
      }
    });
  }

  function resizeChart() {
    OTM.resizeChart(state.chart, document.getElementById("months-chart"), 260);
  }

  function openAll(open) {
    document.querySelectorAll("#tree details").forEach(function (d) {
      if (open) { d.setAttribute("open", ""); } else { d.removeAttribute("open"); }
    });
  }

  function start() {
    var wanted = fromAddress();
    state.indicator = wanted.indicator;
    Promise.all([
      OTM.getJSON("/results/framework"), OTM.getJSON("/results/indicators"), OTM.getJSON("/places", [["geometry", "false"]])
    ]).then(function (results) {
      state.framework = results[0];
      results[0].nodes.forEach(function (n) { state.nodes[n.id] = n; });
      fillPeriods(results[1], wanted.period);
      fillPlaces(results[2], wanted.place);
      fillParts(results[0], wanted.part);
      [periodSelect, placeSelect, partSelect].forEach(function (select) {
        select.addEventListener("change", loadReport);
      });
      return loadReport();
    }, function (error) {
      setStatus("Could not load the framework: " + OTM.errorText(error), true);
      OTM.ready();
    });
    document.getElementById("expand-all").addEventListener("click", function () { openAll(true); });
    document.getElementById("collapse-all").addEventListener("click", function () { openAll(false); });
    window.addEventListener("resize", resizeChart);
  }

  start();
})();
