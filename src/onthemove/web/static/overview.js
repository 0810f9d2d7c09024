/* The overview page: measure and period controls, headline totals, a choropleth of arrivals or people
   displaced (Leaflet, no tiles: the admin boundaries are the base map) with the same figures as a table, and
   a trend by reason (uPlot). Clicking an area (or its link in the table) opens its place page.
   Every request goes to this server; nothing is fetched from anywhere else. */
(function () {
  "use strict";

  var ROOT = OTM.API.replace(/\/api\/v1$/, "");
  var MEASURES = {
    movements: { noun: "Arrivals", lower: "arrivals", trend: "Monthly arrivals by reason" },
    displacement: { noun: "People displaced", lower: "people displaced", trend: "People displaced by reason" }
  };
  // ColorBrewer "Blues" (single hue, sequential): readable by people with colour-vision deficiencies.
  var RAMP = ["#eff3ff", "#bdd7e7", "#6baed6", "#3182bd", "#08519c"];
  var NO_DATA = "#d9d9d9";
  var AREA_STYLE = { color: "#333333", weight: 1, fillColor: NO_DATA, fillOpacity: 0.9 };
  // Okabe–Ito: a colour-blind-safe qualitative palette for the reasons in the trend chart.
  var SERIES_COLOURS = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#D55E00", "#56B4E9", "#000000", "#F0E442"];
  var SERIES_DASH = [[], [8, 4], [2, 3], [12, 4, 2, 4], [], [8, 4], [2, 3], []];

  var fmt = OTM.formats.number;
  var monthLabel = OTM.monthLabel;
  var setStatus = OTM.setStatus;

  var measureSelect = document.getElementById("measure");
  var periodSelect = document.getElementById("period");
  var levelSelect = document.getElementById("level");

  var state = {
    months: [], // [{month: "2024-01", count: 123|null}]
    geoLayer: null,
    map: null,
    chart: null,
    request: 0
  };

  function kind() { return measureSelect.value; }
  function measure() { return MEASURES[kind()] || MEASURES.movements; }
  function placeUrl(pcode) { return ROOT + "/place/" + encodeURIComponent(pcode); }

  // --- headline ------------------------------------------------------------------------------

  function updateHeadline(month) {
    var index = state.months.findIndex(function (m) { return m.month === month; });
    var current = index >= 0 ? state.months[index].count : null;
    var previous = index > 0 ? state.months[index - 1] : null;
    document.getElementById("headline-measure").textContent = measure().noun;
    document.getElementById("headline-month").textContent = monthLabel(month);
    document.getElementById("headline-arrivals").textContent = OTM.formatCount(current);
    var change = document.getElementById("headline-change");
    if (!previous) {
      change.textContent = "no previous month";
    } else if (current === null || previous.count === null) {
      change.textContent = "redacted";
    } else {
      var diff = current - previous.count;
      var sign = diff > 0 ? "+" : diff < 0 ? "−" : "±";
      var text = sign + fmt.format(Math.abs(diff));
      if (previous.count > 0) {
        text += " (" + sign + OTM.formats.oneDecimal.format(Math.abs(diff) / previous.count * 100) + "%)";
      }
      change.textContent = text;
      change.setAttribute("title", "compared with " + monthLabel(previous.month));
    }
  }

  // --- map -----------------------------------------------------------------------------------

  function breaks(values) {
    var max = Math.max.apply(null, values.concat([0]));
    if (max <= 0) { return [1, 2, 3, 4]; }
    var step = niceStep(max / RAMP.length);
    return [1, 2, 3, 4].map(function (i) { return step * i; });
  }

  function niceStep(raw) {
    var power = Math.pow(10, Math.floor(Math.log10(raw)));
    var candidates = [1, 2, 2.5, 5, 10];
    for (var i = 0; i < candidates.length; i++) {
      if (candidates[i] * power >= raw) { return candidates[i] * power; }
    }
    return 10 * power;
  }

  function colourFor(value, limits) {
    if (value === null || value === undefined) { return NO_DATA; }
    for (var i = 0; i < limits.length; i++) {
      if (value < limits[i]) { return RAMP[i]; }
    }
    return RAMP[RAMP.length - 1];
  }

  function renderLegend(limits) {
    var entries = [[RAMP[0], "under " + fmt.format(limits[0])]];
    for (var i = 1; i < limits.length; i++) {
      entries.push([RAMP[i], fmt.format(limits[i - 1]) + "–" + fmt.format(limits[i] - 1)]);
    }
    entries.push([RAMP[limits.length], fmt.format(limits[limits.length - 1]) + " or more"]);
    entries.push([NO_DATA, "no data / redacted"]);
    OTM.fillLegend("legend", entries);
  }

  function ensureMap() {
    if (!state.map) { state.map = OTM.baseMap("map"); }
    return state.map;
  }

  function drawAreas(collection) {
    state.geoLayer = OTM.showAreas(ensureMap(), state.geoLayer, collection, AREA_STYLE, function (pcode) {
      window.location.href = placeUrl(pcode);
    });
  }

  function colourAreas(rows, level) {
    var key = "adm" + level;
    var counts = {};
    rows.forEach(function (row) { counts[row[key]] = row.count; });
    var values = rows.map(function (r) { return r.count; }).filter(function (v) { return v !== null; });
    var limits = breaks(values);
    state.geoLayer.eachLayer(function (layer) {
      var props = layer.feature.properties;
      var value = Object.prototype.hasOwnProperty.call(counts, props.pcode) ? counts[props.pcode] : undefined;
      layer.setStyle({ fillColor: colourFor(value, limits) });
      var text = props.name + " (" + props.pcode + "): " +
        (value === undefined ? "no " + measure().lower + " recorded" : OTM.formatCount(value) + " " + measure().lower);
      layer.unbindTooltip();
      layer.bindTooltip(text, { sticky: true });
      var element = layer.getElement();
      if (element) {
        element.setAttribute("data-count", value === undefined || value === null ? "" : String(value));
      }
    });
    renderLegend(limits);
    fillMapTable(counts);
  }

  function fillMapTable(counts) {
    var tbody = document.querySelector("#map-table tbody");
    tbody.textContent = "";
    var rows = [];
    state.geoLayer.eachLayer(function (layer) {
      var props = layer.feature.properties;
      var has = Object.prototype.hasOwnProperty.call(counts, props.pcode);
      rows.push({ pcode: props.pcode, name: props.name, value: has ? counts[props.pcode] : undefined });
    });
    // largest first; redacted and missing last
    rows.sort(function (a, b) {
      var av = typeof a.value === "number" ? a.value : -1;
      var bv = typeof b.value === "number" ? b.value : -1;
      return bv - av || (a.name < b.name ? -1 : 1);
    });
    rows.forEach(function (r) {
      var tr = OTM.el("tr", { "data-pcode": r.pcode });
      OTM.cell(tr).appendChild(OTM.el("a", { href: placeUrl(r.pcode) }, r.name));
      OTM.cell(tr, r.pcode);
      OTM.cell(tr, r.value === undefined ? "no data" : OTM.formatCount(r.value), "num");
      tbody.appendChild(tr);
    });
    document.getElementById("map-table-caption").textContent =
      measure().noun + " by area in " + monthLabel(periodSelect.value);
  }

  function refreshMap() {
    var month = periodSelect.value;
    var level = levelSelect.value;
    if (!month) { return Promise.resolve(); }
    var ticket = ++state.request;
    var range = OTM.monthRange(month);
    return Promise.all([
      OTM.boundaries(level),
      OTM.getJSON("/totals/" + kind(),
        [["by", "adm" + level], ["from", range[0]], ["to", range[1]], ["limit", "10000"]])
    ]).then(function (results) {
      if (ticket !== state.request) { return; } // a newer choice superseded this one
      drawAreas(results[0]);
      colourAreas(results[1].rows, level);
      document.getElementById("map").setAttribute(
        "aria-label",
        "Map of " + measure().lower + " by admin level " + level + " area in " + monthLabel(month) +
          ", darker blue means more " + measure().lower + "; the same figures are in the table below the map"
      );
    });
  }

  // --- trend ---------------------------------------------------------------------------------

  function renderTrend(rows) {
    var months = [];
    var reasons = [];
    var values = {};
    rows.forEach(function (row) {
      if (months.indexOf(row.month) < 0) { months.push(row.month); }
      var reason = row.reason === null || row.reason === undefined ? "unknown" : row.reason;
      if (reasons.indexOf(reason) < 0) { reasons.push(reason); }
      values[row.month + "|" + reason] = row.count;
    });
    months.sort();
    reasons.sort();
    var data = [months.map(OTM.monthSeconds)];
    reasons.forEach(function (reason) {
      data.push(months.map(function (m) {
        // no row: no arrivals for that reason that month; a null count: redacted (a gap in the line)
        var v = values[m + "|" + reason];
        return v === undefined ? 0 : v;
      }));
    });
    state.chart = OTM.lineChart(document.getElementById("trend"), state.chart, {
      data: data,
      height: 300,
      yLabel: measure().noun,
      ySize: 60,
      yFormat: fmt.format,
      series: reasons.map(function (reason, i) {
        return {
          label: reason,
          stroke: SERIES_COLOURS[i % SERIES_COLOURS.length],
          dash: SERIES_DASH[i % SERIES_DASH.length],
          width: 2,
          value: OTM.chartValue(fmt.format)
        };
      })
    });
  }

  function resizeTrend() {
    OTM.resizeChart(state.chart, document.getElementById("trend"), 300);
  }

  // --- wiring --------------------------------------------------------------------------------

  function fillPeriods(rows) {
    state.months = rows
      .filter(function (r) { return r.month; })
      .map(function (r) { return { month: r.month, count: r.count }; })
      .sort(function (a, b) { return a.month < b.month ? -1 : a.month > b.month ? 1 : 0; });
    periodSelect.textContent = "";
    state.months.slice().reverse().forEach(function (m) {
      periodSelect.appendChild(OTM.el("option", { value: m.month }, monthLabel(m.month)));
    });
    if (state.months.length) {
      periodSelect.value = state.months[state.months.length - 1].month; // the latest month
      periodSelect.disabled = false;
    }
  }

  function onPeriodChange() {
    updateHeadline(periodSelect.value);
    setStatus("Loading " + monthLabel(periodSelect.value) + "…");
    refreshMap().then(function () { setStatus(""); }, fail);
  }

  function fail(error) {
    console.error(error);
    setStatus("Could not load the data: " + OTM.errorText(error), true);
  }

  function load() {
    OTM.notReady();
    setStatus("Loading…");
    ensureMap();
    document.getElementById("map-title").textContent = measure().noun + " by area";
    document.getElementById("trend-title").textContent = measure().trend;
    document.getElementById("trend").setAttribute("aria-label", "Line chart: " + measure().trend.toLowerCase());
    var periods = OTM.getJSON("/totals/" + kind(), [["by", "month"], ["limit", "10000"]]).then(function (body) {
      fillPeriods(body.rows);
      if (!state.months.length) {
        setStatus("No " + measure().lower + " recorded yet.");
        return OTM.boundaries(levelSelect.value).then(drawAreas);
      }
      updateHeadline(periodSelect.value);
      return refreshMap();
    });
    var trend = OTM.getJSON("/totals/" + kind(), [["by", "month"], ["by", "reason"], ["limit", "10000"]]).then(
      function (body) { renderTrend(body.rows); }
    );
    return Promise.all([periods, trend]).then(function () {
      if (state.months.length) { setStatus(""); }
      OTM.ready();
    }, fail);
  }

  function start() {
    load();
    measureSelect.addEventListener("change", load);
    periodSelect.addEventListener("change", onPeriodChange);
    levelSelect.addEventListener("change", function () {
      refreshMap().then(function () { setStatus(""); }, fail);
    });
    window.addEventListener("resize", resizeTrend);
  }

  start();
})();
