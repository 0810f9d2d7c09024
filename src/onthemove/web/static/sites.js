/* The sites page: which sites need what. Every site from GET /api/v1/sites (paged with limit/offset until all are
   in), filtered in the browser by name, region, type and needs; a summary of needs per indicator (SVG bars and a
   table), a sortable table and a map of circle markers (Leaflet, no tiles: the admin-1 boundaries are the base map).
   Every request goes to this server; nothing is fetched from anywhere else. */
(function () {
  "use strict";

  var PAGE_SIZE = 1000; // the server may answer fewer: the next offset is always what came back
  var ROW_STEP = 500; // table rows drawn at a time: a table of thousands of rows takes seconds to lay out

  // Severity 1..5 (the JIAF scale). ColorBrewer "YlOrRd": sequential, readable with colour-vision deficiencies;
  // every marker and swatch also has a dark outline, and the numbers are always written out.
  var LEVELS = [1, 2, 3, 4, 5];
  var LEVEL_NAMES = { 1: "minimal", 2: "stressed", 3: "severe", 4: "extreme", 5: "catastrophic" };
  var LEVEL_COLOURS = { 1: "#ffffb2", 2: "#fecc5c", 3: "#fd8d3c", 4: "#f03b20", 5: "#bd0026" };
  var LEVEL_TEXT = { 1: "#000000", 2: "#000000", 3: "#000000", 4: "#000000", 5: "#ffffff" }; // >= 4.5:1 on each
  var NOT_ASSESSED = "#d9d9d9";
  var ACRONYMS = { wash: "WASH", nfi: "NFI", snfi: "SNFI", cccm: "CCCM", gbv: "GBV", mhpss: "MHPSS" };
  var WORST = "*"; // the indicator value that means "the worst of any severity indicator"
  var REGION_STYLE = { color: "#6b6b6b", weight: 1, fillColor: "#eeeeee", fillOpacity: 1 };

  var fmt = OTM.formats.number;
  var make = OTM.el; // el is the page's elements
  var td = OTM.cell;
  var svg = OTM.svg;
  var setStatus = OTM.setStatus;

  var el = {
    scope: document.getElementById("place-scope"),
    text: document.getElementById("f-text"),
    adm1: document.getElementById("f-adm1"),
    type: document.getElementById("f-type"),
    need: document.getElementById("f-need"),
    level: document.getElementById("f-level"),
    indicator: document.getElementById("f-indicator"),
    reset: document.getElementById("f-reset"),
    count: document.getElementById("site-count"),
    legend: document.getElementById("legend"),
    chart: document.getElementById("needs-chart"),
    chartLegend: document.getElementById("needs-legend"),
    needsHead: document.querySelector("#needs-table thead tr"),
    needsBody: document.querySelector("#needs-table tbody"),
    head: document.querySelector("#sites-table thead tr"),
    body: document.querySelector("#sites-table tbody"),
    tableScroll: document.querySelector(".table-scroll"),
    more: document.getElementById("more-rows"),
    rowsNote: document.getElementById("rows-note"),
    moreButton: document.getElementById("show-more"),
    allButton: document.getElementById("show-all")
  };

  var place = (new URLSearchParams(window.location.search).get("place") || "").trim();

  var state = {
    sites: [], // rows from the API, each with .needs flattened, .worst and .search added
    total: 0,
    redacted: false,
    indicators: [], // every needs indicator, severity ones first
    severity: [], // the indicators whose every value is a whole number from 1 to 5
    commonSuffix: "", // " severity" when every severity indicator is "<sector> severity"
    names: Object.create(null), // P-code -> name (admin levels 1 and 2)
    regions: null, // GeoJSON of admin level 1
    columns: [],
    sort: { key: "name", dir: "ascending" },
    shown: [],
    ordered: [], // the shown sites in table order
    drawn: 0, // how many of them have a row in the table
    map: null,
    areaLayer: null,
    markerLayer: null,
    markers: Object.create(null), // site_id -> L.circleMarker
    rows: Object.create(null), // site_id -> its table row
    chartWidth: 0,
    maxIndividuals: 0
  };

  // --- fetching ------------------------------------------------------------------------------

  /* Every site, page by page (sequentially: a few requests for thousands of sites). */
  function loadSites() {
    var base = place ? [["place", place]] : [];
    var rows = [];
    var seen = Object.create(null);
    function next(offset) {
      return OTM.getJSON("/sites", base.concat([["limit", PAGE_SIZE], ["offset", offset]])).then(function (page) {
        state.total = page.total_rows;
        state.redacted = !!page.redacted;
        page.rows.forEach(function (row) {
          if (!seen[row.site_id]) { seen[row.site_id] = true; rows.push(row); }
        });
        var after = offset + page.rows.length;
        if (page.rows.length && after < page.total_rows) {
          setStatus("Loading sites… " + fmt.format(after) + " of " + fmt.format(page.total_rows));
          return next(after);
        }
        return rows;
      });
    }
    return next(0);
  }

  function loadNames() {
    // names of admin levels 1 (with boundaries, for the map) and 2 (names only)
    return OTM.regionsAndNames().then(function (got) {
      state.names = got.names;
      state.regions = got.regions;
    });
  }

  // --- preparing rows ------------------------------------------------------------------------

  /* needs as indicator -> number; a nested {sector: {indicator: value}} is flattened to "sector.indicator". */
  function flattenNeeds(needs) {
    var out = {};
    Object.keys(needs || {}).forEach(function (key) {
      var value = needs[key];
      if (value !== null && typeof value === "object") {
        Object.keys(value).forEach(function (inner) {
          if (isFinite(value[inner]) && value[inner] !== null) { out[key + "." + inner] = Number(value[inner]); }
        });
      } else if (value !== null && value !== undefined && isFinite(value)) {
        out[key] = Number(value);
      }
    });
    return out;
  }

  function pretty(key) {
    var words = String(key).split(/[._:|/\s-]+/).filter(Boolean).map(function (word) {
      return ACRONYMS[word.toLowerCase()] || word.toLowerCase();
    });
    var text = words.join(" ");
    return text.charAt(0).toUpperCase() + text.slice(1);
  }

  /* Column and bar labels: "WASH severity", or just "WASH" when every severity indicator ends in "severity". */
  function labelOf(key) {
    var label = pretty(key);
    var suffix = state.commonSuffix;
    if (suffix && state.severity.indexOf(key) >= 0 && label.length > suffix.length) {
      return label.slice(0, label.length - suffix.length);
    }
    return label;
  }

  function commonSuffix(keys) {
    if (keys.length < 2) { return ""; }
    var last = keys.map(function (k) { var words = pretty(k).split(" "); return words.length > 1 ? words.pop() : ""; });
    var same = last.every(function (w) { return w && w === last[0]; });
    return same ? " " + last[0] : "";
  }

  function fold(text) {
    return String(text || "").normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase();
  }

  function prepare(rows) {
    var values = {};
    rows.forEach(function (site) {
      site.needs = flattenNeeds(site.needs);
      Object.keys(site.needs).forEach(function (key) { (values[key] = values[key] || []).push(site.needs[key]); });
    });
    var keys = Object.keys(values).sort();
    state.severity = keys.filter(function (key) {
      return values[key].every(function (v) { return v === Math.round(v) && v >= 1 && v <= 5; });
    });
    state.commonSuffix = commonSuffix(state.severity);
    state.indicators = state.severity.concat(keys.filter(function (k) { return state.severity.indexOf(k) < 0; }));
    rows.forEach(function (site) {
      var worst = null;
      state.severity.forEach(function (key) {
        var v = site.needs[key];
        if (v !== undefined && (worst === null || v > worst)) { worst = v; }
      });
      site.worst = worst;
      site.search = fold([site.name, site.site_id, site.place].join(" "));
      site.areaLabel = areaLabel(site);
      state.maxIndividuals = Math.max(state.maxIndividuals, site.individuals || 0);
    });
    rows.slice()
      .sort(function (a, b) {
        return OTM.compare(a.name || "", b.name || "", "text") || OTM.compare(a.site_id, b.site_id, "text");
      })
      .forEach(function (site, i) { site.nameOrder = i; });
    state.sites = rows;
  }

  function nameOf(pcode) {
    return pcode ? state.names[pcode] || pcode : "";
  }

  function areaLabel(site) {
    var parts = [];
    if (site.adm1) { parts.push(nameOf(site.adm1)); }
    if (site.adm2) { parts.push(nameOf(site.adm2)); }
    return parts.join(" › ") || "unknown area";
  }

  function levelText(level) {
    return level === null || level === undefined ? "not assessed" : level + " (" + LEVEL_NAMES[level] + ")";
  }

  // --- filters -------------------------------------------------------------------------------

  function option(select, value, label) {
    return select.appendChild(make("option", { value: value }, label));
  }

  function fillFilters() {
    var regionCounts = {};
    var typeCounts = {};
    state.sites.forEach(function (s) {
      var region = s.adm1 || "";
      regionCounts[region] = (regionCounts[region] || 0) + 1;
      var type = s.site_type || "";
      typeCounts[type] = (typeCounts[type] || 0) + 1;
    });
    Object.keys(regionCounts)
      .filter(function (code) { return code; })
      .sort(function (a, b) { return nameOf(a).localeCompare(nameOf(b)); })
      .forEach(function (code) {
        option(el.adm1, code, nameOf(code) + " (" + code + ") – " + fmt.format(regionCounts[code]));
      });
    Object.keys(typeCounts)
      .filter(function (t) { return t; })
      .sort()
      .forEach(function (t) { option(el.type, t, t + " – " + fmt.format(typeCounts[t])); });
    if (regionCounts[""]) { option(el.adm1, "-", "No region – " + fmt.format(regionCounts[""])); }
    if (typeCounts[""]) { option(el.type, "-", "Type not recorded – " + fmt.format(typeCounts[""])); }

    if (state.severity.length) {
      el.need.hidden = false;
      LEVELS.forEach(function (level) {
        option(el.level, String(level), "severity " + levelText(level) + " or worse");
      });
      option(el.indicator, WORST, "any indicator");
      state.severity.forEach(function (key) { option(el.indicator, key, labelOf(key)); });
    }
    // ?place=PCODE of a region: show it as the chosen region too
    var upper = place.toUpperCase();
    if (upper && regionCounts[upper]) { el.adm1.value = upper; }
  }

  function matches(site, f) {
    if (f.text && site.search.indexOf(f.text) < 0) { return false; }
    if (f.adm1 && (f.adm1 === "-" ? site.adm1 : site.adm1 !== f.adm1)) { return false; }
    if (f.type && (f.type === "-" ? site.site_type : site.site_type !== f.type)) { return false; }
    if (f.level) {
      var value = f.indicator === WORST ? site.worst : site.needs[f.indicator];
      if (value === null || value === undefined || value < f.level) { return false; }
    }
    return true;
  }

  function currentFilters() {
    return {
      text: fold(el.text.value.trim()),
      adm1: el.adm1.value,
      type: el.type.value,
      level: el.level.value ? +el.level.value : 0,
      indicator: el.indicator.value || WORST
    };
  }

  function applyFilters(refit) {
    var f = currentFilters();
    var shown = state.sites.filter(function (s) { return matches(s, f); });
    state.shown = shown;
    renderTable();
    renderSummary(shown);
    renderMarkers(shown);
    if (refit) { fitMap(); }
    highlightRegion(f.adm1);
    el.count.textContent = "Showing " + fmt.format(shown.length) + " of " + fmt.format(state.sites.length) + " sites";
    el.count.setAttribute("data-shown", String(shown.length));
    el.count.setAttribute("data-total", String(state.sites.length));
  }

  // --- table ---------------------------------------------------------------------------------

  function buildColumns() {
    var cols = [
      { key: "name", label: "Site", type: "text", value: function (s) { return s.name || s.site_id; } },
      { key: "area", label: "Area (P-code)", type: "text", value: function (s) { return s.areaLabel; } },
      { key: "type", label: "Type", type: "text", value: function (s) { return s.site_type; } },
      { key: "households", label: "Households", type: "num", value: function (s) { return s.households; } },
      { key: "individuals", label: "Individuals", type: "num", value: function (s) { return s.individuals; } }
    ];
    if (state.severity.length > 1) {
      cols.push({ key: "worst", label: "Worst need", type: "num", severity: true,
        value: function (s) { return s.worst; } });
    }
    state.indicators.forEach(function (key) {
      cols.push({
        key: "need:" + key,
        indicator: key,
        label: labelOf(key),
        type: "num",
        severity: state.severity.indexOf(key) >= 0,
        value: function (s) { var v = s.needs[key]; return v === undefined ? null : v; }
      });
    });
    cols.push({ key: "assessed", label: "Assessed", type: "text", value: function (s) { return s.assessed; } });
    state.columns = cols;
    // the sites in the worst need first, when there is a severity to rank them by
    var rank = cols.filter(function (c) { return c.severity; })[0];
    state.sort = rank ? { key: rank.key, dir: "descending" } : { key: "name", dir: "ascending" };
  }

  function renderHead() {
    OTM.sortHead(el.head, state.columns, state.sort, sortBy);
  }

  function sortBy(key) {
    var col = columnFor(key);
    // numbers: the largest first (who needs most); text: A to Z
    state.sort = OTM.nextSort(state.sort, key, col.type === "num" ? "descending" : "ascending");
    OTM.markSorted(el.head, state.sort);
    renderTable();
    setStatus("Sorted by " + col.label + ", " + state.sort.dir + ".");
  }

  function columnFor(key) { return OTM.columnFor(state.columns, key); }

  /* The shown sites in the chosen order, missing values (not assessed, redacted) last whatever the direction.
     Ties: more individuals first, then name, then code. */
  function sortedRows(rows) {
    var col = columnFor(state.sort.key);
    var byPeople = col.key === "individuals";
    return OTM.sortRows(rows, col, state.sort.dir, function (a, b) {
      if (!byPeople) {
        var pa = a.individuals;
        var pb = b.individuals;
        if (OTM.isEmpty(pa) !== OTM.isEmpty(pb)) { return OTM.isEmpty(pa) ? 1 : -1; }
        if (!OTM.isEmpty(pa) && pa !== pb) { return pb - pa; }
      }
      return a.nameOrder - b.nameOrder;
    });
  }

  function severityCell(tr, value) {
    var cell = td(tr, undefined, "num");
    if (value === null || value === undefined) {
      cell.textContent = "–";
      cell.title = "not assessed";
      return;
    }
    cell.appendChild(OTM.swatch(LEVEL_COLOURS[value] || NOT_ASSESSED, "sev-swatch"));
    cell.appendChild(document.createTextNode(String(value)));
    cell.title = levelText(value);
  }

  /* Each site's row is built once and kept: sorting and filtering only reorder and swap rows. */
  function rowFor(s) {
    if (state.rows[s.site_id]) { return state.rows[s.site_id]; }
    var tr = make("tr", { "data-site-id": s.site_id });
    var nameCell = td(tr, undefined, "site-name");
    nameCell.appendChild(make("span", { "class": "name" }, s.name || "(no name)"));
    nameCell.appendChild(make("span", { "class": "code" }, s.site_id));

    var areaCell = td(tr, undefined, "area");
    areaCell.appendChild(make("span", {}, s.areaLabel));
    areaCell.appendChild(make("span", { "class": "code" }, s.place || "–"));

    td(tr, s.site_type || "–");
    td(tr, OTM.formatCount(s.households), s.households === null ? "num redacted" : "num");
    td(tr, OTM.formatCount(s.individuals), s.individuals === null ? "num redacted" : "num");
    state.columns.forEach(function (col) {
      if (col.key === "worst") {
        severityCell(tr, s.worst);
      } else if (col.indicator) {
        var v = s.needs[col.indicator];
        if (col.severity) {
          severityCell(tr, v);
        } else {
          td(tr, v === undefined ? "–" : fmt.format(v), "num");
        }
      }
    });
    var when = td(tr, undefined, "date");
    if (s.assessed) {
      when.appendChild(make("time", { datetime: s.assessed }, OTM.shortDate(s.assessed)));
    } else {
      when.textContent = "never";
    }
    state.rows[s.site_id] = tr;
    return tr;
  }

  function renderTable() {
    var fragment = document.createDocumentFragment();
    var rows = sortedRows(state.shown);
    state.ordered = rows;
    state.drawn = Math.min(rows.length, ROW_STEP);
    rows.slice(0, state.drawn).forEach(function (s) { fragment.appendChild(rowFor(s)); });
    el.body.textContent = "";
    updateMore();
    if (!rows.length) {
      var empty = make("tr", { "class": "empty" });
      var cell = td(empty, state.sites.length ? "No site matches these filters." : "No sites recorded here.");
      cell.colSpan = state.columns.length;
      fragment.appendChild(empty);
    }
    el.body.appendChild(fragment);
  }

  /* Draw the next rows of the current order below those already in the table. */
  function showMore(all) {
    var fragment = document.createDocumentFragment();
    var until = all ? state.ordered.length : Math.min(state.ordered.length, state.drawn + ROW_STEP);
    state.ordered.slice(state.drawn, until).forEach(function (s) { fragment.appendChild(rowFor(s)); });
    var first = state.ordered[state.drawn];
    state.drawn = until;
    el.body.appendChild(fragment);
    updateMore();
    if (el.more.hidden && first) { el.tableScroll.focus(); } // the buttons are gone: keep focus near the rows
  }

  function updateMore() {
    var left = state.ordered.length - state.drawn;
    el.more.hidden = left <= 0;
    el.rowsNote.textContent = left > 0
      ? "The table shows the first " + fmt.format(state.drawn) + " of these " + fmt.format(state.ordered.length) +
        " sites in this order; sort or filter to bring others up, or show more."
      : "";
    el.moreButton.textContent = "Show " + fmt.format(Math.min(left, ROW_STEP)) + " more rows";
    el.allButton.textContent = "Show all " + fmt.format(state.ordered.length) + " rows (slow)";
    el.allButton.hidden = left <= ROW_STEP;
  }

  // --- needs summary -------------------------------------------------------------------------

  function summariseBy(key, label, severity, rows, value) {
    var counts = { 1: 0, 2: 0, 3: 0, 4: 0, 5: 0 };
    var n = 0;
    var sum = 0;
    rows.forEach(function (s) {
      var v = value(s);
      if (v === null) { return; }
      n += 1;
      sum += v;
      if (severity) { counts[v] += 1; }
    });
    return {
      key: key, label: label, severity: severity, counts: counts, assessed: n,
      missing: rows.length - n, mean: n ? sum / n : null
    };
  }

  function summarise(rows) {
    var summary = state.indicators.map(function (key) {
      return summariseBy(key, labelOf(key), state.severity.indexOf(key) >= 0, rows, function (s) {
        var v = s.needs[key];
        return v === undefined ? null : v;
      });
    });
    if (state.severity.length > 1) {
      summary.unshift(summariseBy(WORST, "Worst of all indicators", true, rows, function (s) { return s.worst; }));
    }
    return summary;
  }

  function severityRows(summary) {
    return summary.filter(function (row) { return row.severity; });
  }

  function renderSummary(rows) {
    var summary = summarise(rows);
    renderSummaryTable(summary);
    renderChart(severityRows(summary), rows.length);
  }

  function renderChartLegend() {
    el.chartLegend.textContent = "";
    if (!state.severity.length) { return; }
    OTM.fillLegend(el.chartLegend, LEVELS.map(function (level) { return [LEVEL_COLOURS[level], levelText(level)]; })
      .concat([[NOT_ASSESSED, "not assessed"]]));
  }

  function renderSummaryTable(summary) {
    el.needsHead.textContent = "";
    el.needsHead.appendChild(make("th", { scope: "col" }, "Indicator"));
    LEVELS.forEach(function (level) {
      var th = make("th", { scope: "col", "class": "num", title: levelText(level) });
      th.appendChild(OTM.swatch(LEVEL_COLOURS[level], "sev-swatch"));
      th.appendChild(document.createTextNode(String(level)));
      th.appendChild(make("span", { "class": "visually-hidden" }, " (" + LEVEL_NAMES[level] + ")"));
      el.needsHead.appendChild(th);
    });
    ["Not assessed", "Mean"].forEach(function (label) {
      el.needsHead.appendChild(make("th", { scope: "col", "class": "num" }, label));
    });

    el.needsBody.textContent = "";
    if (!summary.length) {
      var none = make("tr");
      var cell = td(none, "No needs assessments for these sites.");
      cell.colSpan = LEVELS.length + 3;
      el.needsBody.appendChild(none);
      return;
    }
    summary.forEach(function (row) {
      var tr = make("tr", { "data-indicator": row.key });
      td(tr, row.label, null, "th");
      LEVELS.forEach(function (level) {
        var c = td(tr, row.severity ? fmt.format(row.counts[level]) : "–", "num");
        c.setAttribute("data-level", String(level));
        if (row.severity) { c.setAttribute("data-value", String(row.counts[level])); }
      });
      var missing = td(tr, fmt.format(row.missing), "num");
      missing.setAttribute("data-level", "none");
      missing.setAttribute("data-value", String(row.missing));
      var mean = td(tr, row.mean === null ? "–" : OTM.formats.twoDecimals.format(row.mean), "num");
      mean.setAttribute("data-level", "mean");
      mean.setAttribute("data-value", row.mean === null ? "" : String(row.mean));
      el.needsBody.appendChild(tr);
    });
  }

  /* One stacked bar per severity indicator: the share of the shown sites at each level, not assessed in grey. */
  function renderChart(summary, siteCount) {
    el.chart.textContent = "";
    if (!summary.length || !siteCount) { return; }
    var width = Math.max(state.chartWidth, 320);
    var labelWidth = Math.min(190, Math.round(width * 0.34));
    var barWidth = width - labelWidth - 8;
    var rowHeight = 26;
    var gap = 8;
    var axis = 18;
    var height = summary.length * (rowHeight + gap) + axis;
    var root = svg("svg", {
      width: width, height: height, viewBox: "0 0 " + width + " " + height, role: "img",
      "aria-label": "Bar chart: share of the " + fmt.format(siteCount) + " sites shown at each severity level, " +
        "per indicator. The table below gives the numbers."
    }, null, el.chart);
    summary.forEach(function (row, i) {
      var y = i * (rowHeight + gap);
      svg("text", { x: labelWidth - 6, y: y + rowHeight / 2, "text-anchor": "end",
        "dominant-baseline": "central", "class": "chart-label" }, row.label, root);
      var x = labelWidth;
      var segments = LEVELS.map(function (level) {
        return { count: row.counts[level], fill: LEVEL_COLOURS[level], ink: LEVEL_TEXT[level],
          title: row.label + ": " + fmt.format(row.counts[level]) + " sites at severity " + levelText(level) };
      });
      segments.push({ count: row.missing, fill: NOT_ASSESSED, ink: "#000000",
        title: row.label + ": " + fmt.format(row.missing) + " sites not assessed" });
      segments.forEach(function (seg) {
        if (!seg.count) { return; }
        var w = seg.count / siteCount * barWidth;
        var group = svg("g", {}, null, root);
        svg("title", {}, seg.title, group);
        svg("rect", { x: x, y: y, width: w, height: rowHeight, fill: seg.fill, stroke: "#1a1a1a",
          "stroke-width": 0.75 }, null, group);
        var text = String(seg.count);
        if (w >= text.length * 8 + 6) {
          svg("text", { x: x + w / 2, y: y + rowHeight / 2, "text-anchor": "middle",
            "dominant-baseline": "central", fill: seg.ink, "class": "chart-count" }, fmt.format(seg.count), group);
        }
        x += w;
      });
    });
    var axisY = summary.length * (rowHeight + gap) + 4;
    [0, 0.5, 1].forEach(function (share) {
      var ax = labelWidth + share * barWidth;
      svg("text", { x: ax, y: axisY + 6, "text-anchor": share === 0 ? "start" : share === 1 ? "end" : "middle",
        "class": "chart-axis" }, Math.round(share * 100) + "% of sites", root);
    });
  }

  // --- map -----------------------------------------------------------------------------------

  function ensureMap() {
    if (state.map) { return state.map; }
    state.map = OTM.baseMap("map", 14);
    state.markerLayer = L.layerGroup();
    return state.map;
  }

  function drawAreas() {
    var map = ensureMap();
    if (state.areaLayer) { map.removeLayer(state.areaLayer); }
    state.areaLayer = OTM.areaLayer(state.regions, REGION_STYLE).addTo(map); // the markers carry the tooltips
  }

  function highlightRegion(pcode) {
    if (!state.areaLayer) { return; }
    state.areaLayer.eachLayer(function (layer) {
      var chosen = pcode && layer.feature.properties.pcode === pcode;
      layer.setStyle(chosen
        ? { color: "#1a1a1a", weight: 2.5, fillColor: "#ffffff" }
        : { color: REGION_STYLE.color, weight: REGION_STYLE.weight, fillColor: REGION_STYLE.fillColor });
    });
  }

  function radiusFor(site) {
    if (site.individuals === null || site.individuals === undefined || !state.maxIndividuals) { return 3.5; }
    return 3.5 + 14 * Math.sqrt(site.individuals / state.maxIndividuals);
  }

  function describe(site) {
    var people = site.individuals === null || site.individuals === undefined
      ? "population redacted"
      : fmt.format(site.individuals) + " individuals";
    return [
      (site.name || "(no name)") + " (" + site.site_id + ")",
      site.areaLabel + (site.site_type ? " · " + site.site_type : ""),
      people + (state.severity.length ? " · worst need: " + levelText(site.worst) : "")
    ];
  }

  function tooltipFor(lines) {
    var box = make("div");
    lines.forEach(function (line, i) { box.appendChild(make(i ? "div" : "strong", {}, line)); });
    return box;
  }

  function markerFor(site) {
    if (state.markers[site.site_id]) { return state.markers[site.site_id]; }
    var lines = describe(site);
    var marker = L.circleMarker([site.latitude, site.longitude], {
      radius: radiusFor(site),
      color: "#1a1a1a",
      weight: 1,
      fillColor: site.worst === null ? NOT_ASSESSED : LEVEL_COLOURS[site.worst],
      fillOpacity: 0.9
    });
    marker.bindTooltip(tooltipFor(lines), { direction: "top", offset: [0, -4] });
    marker.on("add", function () {
      var path = marker.getElement();
      path.setAttribute("data-site-id", site.site_id);
      path.setAttribute("data-worst", site.worst === null ? "" : String(site.worst));
      path.setAttribute("role", "img");
      // not a tab stop: Chromium makes every SVG shape with focus listeners one, and thousands of them would stand
      // between the filters and the table, which lists the same sites
      path.setAttribute("tabindex", "-1");
      path.setAttribute("aria-label", lines.join(", "));
    });
    state.markers[site.site_id] = marker;
    return marker;
  }

  function hasPoint(site) {
    return isFinite(site.latitude) && isFinite(site.longitude) && site.latitude !== null && site.longitude !== null;
  }

  function renderMarkers(rows) {
    var map = ensureMap();
    state.markerLayer.clearLayers();
    // the largest circles first, so smaller ones stay on top and reachable with the pointer
    rows.filter(hasPoint)
      .sort(function (a, b) { return (b.individuals || 0) - (a.individuals || 0); })
      .forEach(function (site) { state.markerLayer.addLayer(markerFor(site)); });
    if (!map.hasLayer(state.markerLayer)) { state.markerLayer.addTo(map); }
  }

  function fitMap() {
    var map = ensureMap();
    var region = el.adm1.value;
    var bounds = null;
    if (region && state.areaLayer) {
      state.areaLayer.eachLayer(function (layer) {
        if (layer.feature.properties.pcode === region) { bounds = layer.getBounds(); }
      });
    }
    if (!bounds && (place || region)) {
      var points = state.shown.filter(hasPoint).map(function (s) { return [s.latitude, s.longitude]; });
      if (points.length) { bounds = L.latLngBounds(points); }
    }
    if (!bounds && state.areaLayer && state.regions.features.length) { bounds = state.areaLayer.getBounds(); }
    if (!bounds) {
      var all = state.sites.filter(hasPoint).map(function (s) { return [s.latitude, s.longitude]; });
      if (all.length) { bounds = L.latLngBounds(all); }
    }
    if (bounds && bounds.isValid()) {
      map.fitBounds(bounds, { padding: [16, 16], maxZoom: 11 });
    } else {
      map.setView([0, 0], 3);
    }
  }

  function renderLegend() {
    OTM.fillLegend(el.legend, LEVELS.map(function (level) {
      return [LEVEL_COLOURS[level], "worst need " + levelText(level)];
    }).concat([[NOT_ASSESSED, "not assessed"]]), "swatch round");
  }

  // --- wiring --------------------------------------------------------------------------------

  function showScope() {
    if (!place) { return; }
    el.scope.textContent = "";
    var name = state.names[place.toUpperCase()];
    el.scope.appendChild(document.createTextNode(
      "Only the sites in " + (name ? name + " (" + place.toUpperCase() + ")" : place) + " are loaded. "
    ));
    el.scope.appendChild(make("a", { href: window.location.pathname }, "Show the sites of every area"));
    el.scope.hidden = false;
  }

  function fail(error) {
    console.error(error);
    setStatus("Could not load the sites: " + OTM.errorText(error), true);
    el.count.textContent = "";
    OTM.ready();
  }

  function sitesText(n) {
    return n === 1 ? "1 site has" : fmt.format(n) + " sites have";
  }

  function debounce(fn, ms) {
    var timer = null;
    return function () {
      clearTimeout(timer);
      timer = setTimeout(fn, ms);
    };
  }

  function start() {
    setStatus("Loading sites…");
    ensureMap();
    Promise.all([loadSites(), loadNames()]).then(function (results) {
      prepare(results[0]);
      buildColumns();
      renderHead();
      fillFilters();
      showScope();
      drawAreas();
      renderLegend();
      renderChartLegend();
      state.chartWidth = el.chart.clientWidth; // measured once, before the table is in: no layout per redraw
      applyFilters(true);
      var noPoint = state.sites.filter(function (s) { return !hasPoint(s); }).length;
      var notes = [];
      var withheld = state.sites.filter(function (s) { return s.individuals === null || s.households === null; });
      if (state.redacted && withheld.length) {
        notes.push(sitesText(withheld.length) + " a household or individual count below the publication " +
          "threshold, shown as “redacted”.");
      }
      if (noPoint) { notes.push(sitesText(noPoint) + " no coordinates: they are in the table only."); }
      setStatus(state.sites.length ? notes.join(" ") : "No sites recorded" + (place ? " in " + place : "") + ".");
      OTM.ready();
    }).catch(fail);

    el.moreButton.addEventListener("click", function () { showMore(false); });
    el.allButton.addEventListener("click", function () { showMore(true); });
    el.text.addEventListener("input", debounce(function () { applyFilters(false); }, 150));
    el.adm1.addEventListener("change", function () { applyFilters(true); });
    el.type.addEventListener("change", function () { applyFilters(false); });
    el.level.addEventListener("change", function () { applyFilters(false); });
    el.indicator.addEventListener("change", function () { applyFilters(false); });
    el.reset.addEventListener("click", function () {
      el.text.value = "";
      var upper = place.toUpperCase();
      el.adm1.value = Array.prototype.some.call(el.adm1.options, function (o) { return o.value === upper; })
        ? upper : "";
      el.type.value = "";
      el.level.value = "";
      el.indicator.value = WORST;
      applyFilters(true);
    });
    window.addEventListener("resize", debounce(function () {
      state.chartWidth = el.chart.clientWidth;
      renderChart(severityRows(summarise(state.shown)), state.shown.length);
    }, 200));
  }

  start();
})();
