/* The needs & response page, from GET /api/v1/needs (sites and regions), /api/v1/places (the regions' boundaries),
   /api/v1/allocations/example and POST /api/v1/allocations, and /api/v1/assistance/who-what-where and /gap.
   * a map of the sites coloured by overall severity (Leaflet, no tiles: the regions' boundaries are the base map)
     beside the ranking, sortable and filterable by region and by sector in need, each row with its "why";
   * people in need by region as bars, with the same figures as a table;
   * for analysts and up: the example plan's budget to change, a ±20% sensitivity switch, and the plan: totals per
     package, the gain over greedy plans, the sites served marked on the map and in the ranking, a CSV download;
   * who does what where and the gap per site and sector, when distributions are recorded.
   Every request goes to this server; nothing is fetched from anywhere else. */
(function () {
  "use strict";

  var ROW_STEP = 300; // ranking rows drawn at first; the rest on request
  var LEVEL_NAMES = { 1: "minimal", 2: "stressed", 3: "severe", 4: "extreme", 5: "catastrophic" };
  // ColorBrewer YlOrRd, as the sites page; the numbers are always written out as well
  var LEVEL_COLOURS = { 1: "#ffffb2", 2: "#fecc5c", 3: "#fd8d3c", 4: "#f03b20", 5: "#bd0026" };
  var SERVED = "#08519c";
  var BAR = "#08519c";
  var AREA_STYLE = { color: "#6b6b6b", weight: 1, fillColor: "#eeeeee", fillOpacity: 1 };

  var fmt = OTM.formats.whole;
  var dec = OTM.formats.upToTwoDecimals;
  var pct = new Intl.NumberFormat("en", { style: "percent", maximumFractionDigits: 1 });
  var signedPct = new Intl.NumberFormat("en", { style: "percent", maximumFractionDigits: 2, signDisplay: "always" });
  var make = OTM.el; // el is the page's elements
  var td = OTM.cell;
  var request = OTM.request;
  var setStatus = OTM.setStatus;

  var el = {
    region: document.getElementById("f-region"),
    sector: document.getElementById("f-sector"),
    reset: document.getElementById("f-reset"),
    count: document.getElementById("row-count"),
    legend: document.getElementById("legend"),
    head: document.querySelector("#ranking-table thead tr"),
    body: document.querySelector("#ranking-table tbody"),
    more: document.getElementById("more-rows"),
    rowsNote: document.getElementById("rows-note"),
    showAll: document.getElementById("show-all"),
    areasChart: document.getElementById("areas-chart"),
    areasBody: document.querySelector("#areas-table tbody"),
    allocNote: document.getElementById("allocation-note"),
    form: document.getElementById("allocation-form"),
    budget: document.getElementById("budget"),
    currency: document.getElementById("budget-currency"),
    sensitivity: document.getElementById("sensitivity"),
    run: document.getElementById("run"),
    planDetails: document.getElementById("plan-details"),
    results: document.getElementById("allocation-results"),
    summary: document.getElementById("allocation-summary"),
    download: document.getElementById("download-plan"),
    allocNotes: document.getElementById("allocation-notes"),
    assistNote: document.getElementById("assistance-note"),
    assistTables: document.getElementById("assistance-tables")
  };

  var state = {
    needs: null, // GET /needs (sites)
    labels: {}, // sector -> label
    inNeed: 3,
    names: {}, // P-code -> name
    regions: null, // GeoJSON of admin level 1
    columns: [],
    sort: { key: "rank", dir: "ascending" },
    shown: [],
    ordered: [],
    all: false,
    map: null,
    areaLayer: null,
    markerLayer: null,
    markers: {}, // site code -> circle marker
    maxPeople: 0,
    example: null, // the example plan (a request body)
    allocation: null, // the latest POST /allocations answer
    served: {} // site id -> { cost, people } of the latest plan
  };

  // --- helpers -------------------------------------------------------------------------------

  function count(value) {
    return value === null || value === undefined ? "not shown" : fmt.format(value);
  }

  function money(value) {
    var currency = state.allocation ? state.allocation.currency : "";
    return (currency ? currency + " " : "") + fmt.format(value);
  }

  function nameOf(pcode) { return pcode ? state.names[pcode] || pcode : ""; }

  function levelText(level) {
    var whole = Math.round(level);
    return String(level) + (LEVEL_NAMES[whole] ? " (" + LEVEL_NAMES[whole] + ")" : "");
  }

  function colourOf(level) { return LEVEL_COLOURS[Math.round(level)] || "#d9d9d9"; }

  function severityCell(tr, value) {
    var cell = td(tr, undefined, "num");
    if (value === null || value === undefined) {
      cell.textContent = "–";
      cell.title = "not assessed";
      return cell;
    }
    cell.appendChild(OTM.swatch(colourOf(value), "sev-swatch"));
    cell.appendChild(document.createTextNode(dec.format(value)));
    cell.title = levelText(value);
    return cell;
  }

  // --- the ranking ---------------------------------------------------------------------------

  function buildColumns() {
    var cols = [
      { key: "rank", label: "Rank", type: "num", value: function (r) { return r.rank; } },
      { key: "name", label: "Site", type: "text", value: function (r) { return r.name || r.code; } },
      { key: "region", label: "Region", type: "text", value: function (r) { return nameOf(r.adm1); } },
      { key: "severity", label: "Severity", type: "num", value: function (r) { return r.severity; } }
    ];
    var sector = el.sector.value;
    if (sector) {
      cols.push({
        key: "sector", label: (state.labels[sector] || sector) + " severity", type: "num",
        value: function (r) { return r.sectors[sector]; }
      });
    }
    cols.push(
      { key: "sectors_in_need", label: "Sectors in need", type: "num", value: function (r) { return r.sectors_in_need; } },
      { key: "people_in_need", label: "People in need", type: "num", value: function (r) { return r.people_in_need; } }
    );
    if (state.allocation) {
      cols.push({
        key: "plan", label: "In the plan", type: "num",
        value: function (r) { return state.served[r.code] ? state.served[r.code].cost : null; }
      });
    }
    cols.push({ key: "why", label: "Why", type: "text", value: function (r) { return r.why; } });
    state.columns = cols;
    if (!columnFor(state.sort.key)) { state.sort = { key: "rank", dir: "ascending" }; }
  }

  function columnFor(key) { return OTM.columnFor(state.columns, key); }

  function renderHead() {
    OTM.sortHead(el.head, state.columns, state.sort, sortBy);
  }

  function sortBy(key) {
    var col = columnFor(key);
    // the rank from 1; other numbers: the largest first; text: A to Z
    state.sort = OTM.nextSort(state.sort, key, col.type === "num" && key !== "rank" ? "descending" : "ascending");
    OTM.markSorted(el.head, state.sort);
    renderRows();
    setStatus("Ranking sorted by " + col.label.toLowerCase() + ", " + state.sort.dir + ".");
  }

  // values not shown or not assessed last, whatever the direction; ties in ranking order
  function sorted(rows) {
    return OTM.sortRows(rows, columnFor(state.sort.key), state.sort.dir, function (a, b) { return a.rank - b.rank; });
  }

  function rowFor(r) {
    var tr = make("tr", {
      "data-site-id": r.code,
      "data-rank": String(r.rank),
      "data-severity": String(r.severity),
      "data-people": r.people_in_need === null ? "" : String(r.people_in_need)
    });
    if (state.served[r.code]) { tr.setAttribute("data-served", "true"); }
    state.columns.forEach(function (col) {
      if (col.key === "rank") {
        td(tr, String(r.rank), "num");
      } else if (col.key === "name") {
        var cell = td(tr, undefined, "site-name");
        cell.appendChild(make("span", { "class": "name" }, r.name || "(no name)"));
        cell.appendChild(make("span", { "class": "code" }, r.code));
      } else if (col.key === "region") {
        td(tr, nameOf(r.adm1) || "–");
      } else if (col.key === "severity") {
        severityCell(tr, r.severity);
      } else if (col.key === "sector") {
        severityCell(tr, r.sectors[el.sector.value]);
      } else if (col.key === "sectors_in_need") {
        td(tr, String(r.sectors_in_need), "num");
      } else if (col.key === "people_in_need") {
        td(tr, count(r.people_in_need), r.people_in_need === null ? "num redacted" : "num");
      } else if (col.key === "plan") {
        var got = state.served[r.code];
        var cell = td(tr, got ? "served" : "–", "num");
        if (got) { cell.title = fmt.format(got.people) + " people covered, " + money(got.cost); }
      } else if (col.key === "why") {
        td(tr, r.why, "why");
      }
    });
    return tr;
  }

  function renderRows() {
    var rows = sorted(state.shown);
    state.ordered = rows;
    var drawn = state.all ? rows.length : Math.min(rows.length, ROW_STEP);
    var fragment = document.createDocumentFragment();
    rows.slice(0, drawn).forEach(function (r) { fragment.appendChild(rowFor(r)); });
    if (!rows.length) {
      var none = make("tr", { "class": "empty" });
      var cell = td(none, state.needs && state.needs.rows.length ? "No site matches these filters." : "No sites assessed.");
      cell.colSpan = state.columns.length;
      fragment.appendChild(none);
    }
    el.body.textContent = "";
    el.body.appendChild(fragment);
    el.more.hidden = drawn >= rows.length;
    el.rowsNote.textContent = drawn < rows.length
      ? "The table shows the first " + fmt.format(drawn) + " of " + fmt.format(rows.length) + " sites in this order."
      : "";
    el.showAll.textContent = "Show all " + fmt.format(rows.length) + " rows";
  }

  function applyFilters() {
    var region = el.region.value;
    var sector = el.sector.value;
    state.shown = state.needs.rows.filter(function (r) {
      if (region && r.adm1 !== region) { return false; }
      if (sector && !(r.sectors[sector] >= state.inNeed)) { return false; }
      return true;
    });
    buildColumns();
    renderHead();
    renderRows();
    renderMarkers();
    var total = state.needs.rows.length;
    el.count.textContent = state.shown.length === total
      ? fmt.format(total) + " sites"
      : fmt.format(state.shown.length) + " of " + fmt.format(total) + " sites";
  }

  function fillFilters() {
    var regions = {};
    state.needs.rows.forEach(function (r) { if (r.adm1) { regions[r.adm1] = (regions[r.adm1] || 0) + 1; } });
    Object.keys(regions).sort(function (a, b) { return OTM.compare(nameOf(a), nameOf(b)); }).forEach(function (code) {
      el.region.appendChild(make("option", { value: code }, nameOf(code) + " (" + code + ") – " + regions[code] + " sites"));
    });
    state.needs.sectors.forEach(function (s) {
      var n = state.needs.rows.filter(function (r) { return r.sectors[s.sector] >= state.inNeed; }).length;
      el.sector.appendChild(make("option", { value: s.sector }, s.label + " – " + n + " sites"));
    });
  }

  // --- the map -------------------------------------------------------------------------------

  function ensureMap() {
    if (state.map) { return state.map; }
    state.map = OTM.baseMap("map", 14);
    state.markerLayer = L.layerGroup().addTo(state.map);
    return state.map;
  }

  function drawAreas() {
    var map = ensureMap();
    if (!state.regions || !state.regions.features.length) { return; }
    state.areaLayer = OTM.areaLayer(state.regions, AREA_STYLE).addTo(map);
    state.areaLayer.bringToBack(); // beneath the sites
  }

  function hasPoint(r) {
    return r.latitude !== null && r.longitude !== null && isFinite(r.latitude) && isFinite(r.longitude);
  }

  function radiusFor(r) {
    if (r.people_in_need === null || !state.maxPeople) { return 3.5; }
    return 3.5 + 12 * Math.sqrt(r.people_in_need / state.maxPeople);
  }

  function describe(r) {
    var lines = [
      (r.name || "(no name)") + " (" + r.code + "), rank " + r.rank,
      nameOf(r.adm1) + (r.adm2 ? " › " + nameOf(r.adm2) : ""),
      "severity " + levelText(r.severity) + ", " + r.sectors_in_need + " sectors in need, " +
        (r.people_in_need === null ? "people in need not shown" : fmt.format(r.people_in_need) + " people in need")
    ];
    var got = state.served[r.code];
    if (got) { lines.push("served by the plan: " + fmt.format(got.people) + " people covered, " + money(got.cost)); }
    return lines;
  }

  function markerStyle(r) {
    var served = !!state.served[r.code];
    return {
      radius: radiusFor(r),
      color: served ? SERVED : "#1a1a1a",
      weight: served ? 3.5 : 1,
      fillColor: colourOf(r.severity),
      fillOpacity: 0.9
    };
  }

  function markerFor(r) {
    var marker = state.markers[r.code];
    if (!marker) {
      marker = L.circleMarker([r.latitude, r.longitude], markerStyle(r));
      marker.on("add", function () { labelMarker(marker, r); });
      state.markers[r.code] = marker;
    }
    return marker;
  }

  function labelMarker(marker, r) {
    var path = marker.getElement();
    if (!path) { return; }
    var lines = describe(r);
    path.setAttribute("data-site-id", r.code);
    path.setAttribute("data-severity", String(r.severity));
    if (state.served[r.code]) { path.setAttribute("data-served", "true"); } else { path.removeAttribute("data-served"); }
    path.setAttribute("role", "img");
    path.setAttribute("tabindex", "-1"); // the ranking lists the same sites: the map's circles are no tab stops
    path.setAttribute("aria-label", lines.join(", "));
    var box = document.createElement("div");
    lines.forEach(function (line, i) { box.appendChild(make(i ? "div" : "strong", {}, line)); });
    marker.bindTooltip(box, { direction: "top", offset: [0, -4] });
  }

  function renderMarkers() {
    ensureMap();
    state.markerLayer.clearLayers();
    state.shown.filter(hasPoint)
      .sort(function (a, b) { return (b.people_in_need || 0) - (a.people_in_need || 0); })
      .forEach(function (r) { state.markerLayer.addLayer(markerFor(r)); });
  }

  function restyleMarkers() {
    state.needs.rows.forEach(function (r) {
      var marker = state.markers[r.code];
      if (!marker) { return; }
      marker.setStyle(markerStyle(r));
      labelMarker(marker, r);
      if (state.served[r.code] && state.markerLayer.hasLayer(marker)) { marker.bringToFront(); }
    });
  }

  function fitMap() {
    var map = ensureMap();
    var bounds = state.areaLayer ? state.areaLayer.getBounds() : null;
    if (!bounds || !bounds.isValid()) {
      var points = state.needs.rows.filter(hasPoint).map(function (r) { return [r.latitude, r.longitude]; });
      bounds = points.length ? L.latLngBounds(points) : null;
    }
    if (bounds && bounds.isValid()) { map.fitBounds(bounds, { padding: [12, 12], maxZoom: 11 }); } else { map.setView([0, 0], 3); }
  }

  function renderLegend() {
    var entries = [1, 2, 3, 4, 5].map(function (level) { return [LEVEL_COLOURS[level], "severity " + levelText(level)]; });
    if (state.allocation) {
      var ring = OTM.swatch("#ffffff", "swatch round");
      ring.style.border = "3px solid " + SERVED;
      entries.push([ring, "served by the plan"]);
    }
    OTM.fillLegend(el.legend, entries, "swatch round");
  }

  // --- regions -------------------------------------------------------------------------------

  function renderAreas(body) {
    el.areasBody.textContent = "";
    el.areasChart.textContent = "";
    var rows = body.rows;
    if (!rows.length) {
      var none = make("tr", { "class": "empty" });
      td(none, "No sites assessed.").colSpan = 8;
      el.areasBody.appendChild(none);
      return;
    }
    rows.forEach(function (r) {
      var tr = make("tr", { "data-area": r.code });
      td(tr, String(r.rank), "num");
      td(tr, (r.name || r.code) + " (" + r.code + ")");
      td(tr, String(r.sites), "num");
      td(tr, count(r.population), "num");
      td(tr, count(r.people_in_need), "num");
      td(tr, r.share_in_need === null ? "–" : pct.format(r.share_in_need), "num");
      severityCell(tr, r.severity);
      td(tr, r.why, "why");
      el.areasBody.appendChild(tr);
    });
    var width = Math.max(el.areasChart.clientWidth, 320);
    var labelWidth = Math.min(200, Math.round(width * 0.3));
    var numberWidth = 90;
    var barWidth = width - labelWidth - numberWidth;
    var rowHeight = 22;
    var gap = 6;
    var top = Math.max.apply(null, rows.map(function (r) { return r.people_in_need || 0; })) || 1;
    var height = rows.length * (rowHeight + gap);
    var svg = OTM.svg;
    var root = svg("svg", {
      width: width, height: height, viewBox: "0 0 " + width + " " + height, role: "img",
      "aria-label": "Bar chart: people in need per region; the table below gives the same figures"
    }, null, el.areasChart);
    rows.forEach(function (r, i) {
      var y = i * (rowHeight + gap);
      var group = svg("g", { "data-area": r.code }, null, root);
      svg("title", {}, (r.name || r.code) + ": " + count(r.people_in_need) + " people in need", group);
      svg("text", { x: labelWidth - 6, y: y + rowHeight / 2, "text-anchor": "end",
        "dominant-baseline": "central", "class": "chart-label" }, r.name || r.code, group);
      var w = r.people_in_need ? r.people_in_need / top * barWidth : 0;
      svg("rect", { x: labelWidth, y: y, width: Math.max(w, 0), height: rowHeight, fill: BAR }, null, group);
      svg("text", { x: labelWidth + w + 4, y: y + rowHeight / 2, "dominant-baseline": "central",
        "class": "chart-count" }, count(r.people_in_need), group);
    });
  }

  // --- allocation ----------------------------------------------------------------------------

  function showExample(example) {
    state.example = example.plan;
    if (!example.may_run) {
      el.allocNote.textContent = "";
      el.allocNote.appendChild(document.createTextNode(
        "Running an allocation needs an analyst (or higher) login without a place scope, because the plan uses " +
        "unredacted site populations. "));
      el.allocNote.appendChild(make("a", { href: "/data" }, "Log in on the Data page"));
      el.allocNote.appendChild(document.createTextNode("."));
      return;
    }
    var plan = example.plan;
    el.allocNote.textContent = "The example plan " + (plan.name || "") + " (" + example.source + ") is filled in: " +
      "change the budget and run it.";
    el.currency.textContent = plan.currency || "USD";
    el.budget.value = String(plan.budget);
    var body = document.querySelector("#packages-table tbody");
    plan.packages.forEach(function (p) {
      var tr = make("tr");
      td(tr, p.name + (p.unit ? " (" + p.unit + ")" : ""));
      td(tr, state.labels[p.sector] || p.sector);
      td(tr, dec.format(p.unit_cost), "num");
      td(tr, dec.format(p.people_per_unit), "num");
      td(tr, p.stock === null || p.stock === undefined ? "no limit" : fmt.format(p.stock), "num");
      body.appendChild(tr);
    });
    var rules = document.getElementById("plan-rules");
    (plan.rules || []).forEach(function (rule) {
      var text = "";
      if (rule.min_coverage) {
        var c = rule.min_coverage;
        text = "At least " + pct.format(c.share) + " of each need at severity " + c.severity + " or worse is covered (" +
          (c.packages && c.packages.length ? c.packages.join(", ") : "every package") + ").";
      } else if (rule.min_budget) {
        var b = rule.min_budget;
        text = "At least " + pct.format(b.share) + " of the budget goes to " + (b.per ? "each " + b.per + " area" : b.place) + ".";
      }
      if (text) { rules.appendChild(make("li", {}, text)); }
    });
    if (plan.site_capacity && plan.site_capacity.default) {
      rules.appendChild(make("li", {}, "A site can receive at most " + fmt.format(plan.site_capacity.default) + " units."));
    }
    el.form.hidden = false;
    el.planDetails.hidden = false;
  }

  function runAllocation(event) {
    event.preventDefault();
    var budget = Number(el.budget.value);
    if (el.budget.value === "" || !isFinite(budget) || budget < 0) {
      el.allocNote.textContent = "The budget must be a number of 0 or more.";
      el.allocNote.classList.add("error");
      el.budget.focus();
      return;
    }
    var body = Object.assign({}, state.example, { budget: budget, sensitivity: el.sensitivity.checked });
    el.run.disabled = true;
    el.allocNote.classList.remove("error");
    el.allocNote.textContent = "Solving" + (el.sensitivity.checked ? " the plan and its budget sensitivity" : "") +
      "… (up to 20 seconds)";
    document.getElementById("allocation-panel").setAttribute("data-state", "running");
    request("POST", "/allocations", [], body).then(function (result) {
      showAllocation(result);
      document.getElementById("allocation-panel").setAttribute("data-state", "done");
    }).catch(function (error) {
      el.allocNote.textContent = "The allocation could not be made: " + error.message;
      el.allocNote.classList.add("error");
      document.getElementById("allocation-panel").setAttribute("data-state", "failed");
    }).then(function () { el.run.disabled = false; });
  }

  function showAllocation(a) {
    state.allocation = a;
    state.served = {};
    a.rows.forEach(function (r) {
      var got = state.served[r.site_id] || (state.served[r.site_id] = { cost: 0, people: 0 });
      got.cost += r.cost;
      got.people += r.people_covered;
    });
    var ratio = a.greedy.filter(function (g) { return g.baseline === "greedy-ratio"; })[0];
    el.allocNote.textContent = "";
    el.summary.textContent = a.plan + ": " + a.method.toUpperCase() + " " + a.status.toLowerCase() +
      (a.gap === null ? "" : " (within " + pct.format(a.gap) + " of the best possible)") + " in " + dec.format(a.seconds) +
      " s. " + money(a.cost) + " of " + money(a.budget) + " spent; " + fmt.format(a.sites_served) + " of " +
      fmt.format(a.sites_eligible) + " sites served; " + fmt.format(a.people_covered) +
      " people covered (counted once per package); " + fmt.format(a.objective) + " severity-weighted." +
      (ratio && ratio.gain !== null ? " That is " + signedPct.format(ratio.gain) + " over the best greedy plan." : "");
    OTM.fillTable("totals-table", a.packages, function (p) {
      return [[p.package], [state.labels[p.sector] || p.sector], [dec.format(p.units), true],
        [p.stock === null ? "no limit" : fmt.format(p.stock), true], [fmt.format(p.sites), true],
        [fmt.format(p.people_covered), true], [money(p.cost), true]];
    });
    OTM.fillTable("greedy-table", [{ baseline: "optimum (" + a.method + ")", objective: a.objective,
      people_covered: a.people_covered, cost: a.cost, gain: null }].concat(a.greedy), function (g) {
      var name = { "greedy-ratio": "greedy by people per money", "greedy-rank": "greedy down the ranking" }[g.baseline];
      return [[name || g.baseline], [fmt.format(g.objective), true], [fmt.format(g.people_covered), true],
        [money(g.cost), true], [g.gain === null ? "–" : signedPct.format(g.gain), true]];
    });
    OTM.fillTable("plan-areas-table", a.areas, function (x) {
      return [[x.area ? (x.name || x.area) + " (" + x.area + ")" : "no region"], [fmt.format(x.sites), true],
        [fmt.format(x.people_covered), true], [money(x.cost), true]];
    });
    document.getElementById("sensitivity-wrap").hidden = !a.sensitivity.length;
    OTM.fillTable("sensitivity-table", a.sensitivity, function (s) {
      var ok = s.objective !== null && s.objective !== undefined;
      return [[signedPct.format(s.change), true], [money(s.budget), true],
        [ok ? fmt.format(s.objective) : "no plan", true], [ok ? fmt.format(s.people_covered) : "–", true],
        [ok ? fmt.format(s.sites) : "–", true], [String((s.enter || []).length), true],
        [String((s.leave || []).length), true], [s.marginal === null || s.marginal === undefined ? "–" : dec.format(s.marginal), true]];
    });
    el.allocNotes.textContent = "";
    a.notes.forEach(function (n) { el.allocNotes.appendChild(make("li", {}, n)); });
    a.sensitivity.forEach(function (s) {
      if (s.objective === null || s.objective === undefined) {
        el.allocNotes.appendChild(make("li", {}, "With the budget " + signedPct.format(s.change) + ": " + s.status));
      }
    });
    makeCsv(a);
    el.results.hidden = false;
    renderLegend();
    restyleMarkers();
    buildColumns();
    renderHead();
    renderRows();
    setStatus("The plan serves " + fmt.format(a.sites_served) + " sites: ringed in blue on the map, and in the ranking's " +
      "“In the plan” column.");
  }

  function makeCsv(a) {
    var cols = ["rank", "site_id", "name", "adm1", "adm2", "latitude", "longitude", "package", "sector", "severity",
      "people_in_need", "units", "people_covered", "coverage", "cost"];
    OTM.csvDownload(el.download, cols.concat(["currency"]), a.rows.map(function (r) {
      return cols.map(function (c) { return r[c]; }).concat([a.currency]);
    }), (a.plan || "plan") + ".csv");
    el.download.textContent = "Download the plan as CSV (" + fmt.format(a.rows.length) + " rows)";
  }

  // --- assistance ----------------------------------------------------------------------------

  function showAssistance(www, gap) {
    if (!www.distributions) {
      el.assistNote.textContent = "No distributions recorded" +
        (www.place ? " in " + nameOf(www.place) : "") + ": who does what where, and the gap against the needs, " +
        "appear here once distribution lists are imported into the registry.";
      el.assistTables.hidden = true;
      return;
    }
    var site = function (code) {
      var r = state.needs.rows.filter(function (x) { return x.code === code; })[0];
      return r && r.name ? r.name + " (" + code + ")" : code || "–";
    };
    el.assistNote.textContent = www.redacted
      ? "Cells with fewer than " + www.threshold + " households, and those that would give them away, are not shown."
      : "";
    OTM.fillTable("www-table", www.rows, function (r) {
      return [[r.month], [r.organisation + (r.programme ? " · " + r.programme : "")], [state.labels[r.sector] || r.sector],
        [r.package], [site(r.site_id)], [count(r.households), true], [count(r.people), true],
        [r.quantity === null ? "not shown" : dec.format(r.quantity) + (r.unit ? " " + r.unit : ""), true]];
    });
    var shown = gap.rows.slice(0, 300);
    OTM.fillTable("gap-table", shown, function (r) {
      return [[site(r.site_id)], [state.labels[r.sector] || r.sector],
        [r.severity === null ? "not assessed" : String(r.severity), true], [count(r.people_in_need), true],
        [count(r.people_reached), true], [count(r.gap), true],
        [r.coverage === null ? "–" : pct.format(r.coverage), true]];
    });
    if (gap.rows.length > shown.length) {
      el.assistNote.textContent += " The gap table shows the " + shown.length + " largest gaps of " +
        fmt.format(gap.rows.length) + ".";
    }
    el.assistTables.hidden = false;
  }

  // --- start ---------------------------------------------------------------------------------

  function loadPlaces() {
    return OTM.regionsAndNames().then(function (got) {
      state.names = got.names;
      state.regions = got.regions;
    });
  }

  function start() {
    ensureMap();
    var sites = request("GET", "/needs", [["level", "site"], ["limit", 10000]]);
    var regions = request("GET", "/needs", [["level", "adm1"], ["limit", 10000]]);
    Promise.all([sites, regions, loadPlaces()]).then(function (results) {
      state.needs = results[0];
      state.inNeed = results[0].rules.in_need;
      results[0].sectors.forEach(function (s) { state.labels[s.sector] = s.label; });
      state.maxPeople = Math.max.apply(null, [0].concat(results[0].rows.map(function (r) { return r.people_in_need || 0; })));
      fillFilters();
      drawAreas();
      renderLegend();
      applyFilters();
      fitMap();
      renderAreas(results[1]);
      var notes = [];
      var hidden = results[0].rows.filter(function (r) { return r.suppressed; }).length;
      if (!results[0].rows.length) { notes.push("No site assessments recorded" + (results[0].notes.length ? ": " + results[0].notes.join("; ") : ".")); }
      if (hidden) {
        notes.push(hidden + " sites have their people counts not shown (under the publication threshold of " +
          results[0].threshold + ", or needed to protect one that is).");
      }
      var unplaced = results[0].rows.filter(function (r) { return !hasPoint(r); }).length;
      if (unplaced) { notes.push(unplaced + " sites have no coordinates: they are in the ranking only."); }
      setStatus(notes.join(" ") || fmt.format(results[0].total_rows) + " sites assessed, ranked by need.");
      var example = request("GET", "/allocations/example").then(showExample).catch(function (error) {
        el.allocNote.textContent = error.status === 404 ? "No example plan on this server." : "Could not load the example plan: " + error.message;
      });
      var assistance = Promise.all([
        request("GET", "/assistance/who-what-where"), request("GET", "/assistance/gap")
      ]).then(function (got) { showAssistance(got[0], got[1]); }).catch(function (error) {
        el.assistNote.textContent = "Could not load the distributions: " + error.message;
      });
      return Promise.all([example, assistance]);
    }).then(function () {
      OTM.ready();
    }).catch(function (error) {
      console.error(error);
      setStatus("Could not load the needs: " + error.message, true);
      OTM.ready();
    });

    el.region.addEventListener("change", applyFilters);
    el.sector.addEventListener("change", applyFilters);
    el.reset.addEventListener("click", function () {
      el.region.value = "";
      el.sector.value = "";
      applyFilters();
    });
    el.showAll.addEventListener("click", function () {
      state.all = true;
      renderRows();
      document.querySelector(".ranking-panel .table-scroll").focus();
    });
    el.form.addEventListener("submit", runAllocation);
  }

  start();
})();
