/* The overview page: measure and period controls, headline totals, a choropleth of arrivals or people
   displaced (Leaflet, no tiles: the admin boundaries are the base map) with the same figures as a table, and
   a trend by reason (uPlot). Clicking an area (or its link in the table) opens its place page.
   Every request goes to this server; nothing is fetched from anywhere else. */
(function () {
  "use strict";

  var API = document.body.getAttribute("data-api-base") || "/api/v1";
  var ROOT = API.replace(/\/api\/v1$/, "");
  var MEASURES = {
    movements: { noun: "Arrivals", lower: "arrivals", trend: "Monthly arrivals by reason" },
    displacement: { noun: "People displaced", lower: "people displaced", trend: "People displaced by reason" }
  };
  // ColorBrewer "Blues" (single hue, sequential): readable by people with colour-vision deficiencies.
  var RAMP = ["#eff3ff", "#bdd7e7", "#6baed6", "#3182bd", "#08519c"];
  var NO_DATA = "#d9d9d9";
  // Okabe–Ito: a colour-blind-safe qualitative palette for the reasons in the trend chart.
  var SERIES_COLOURS = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#D55E00", "#56B4E9", "#000000", "#F0E442"];
  var SERIES_DASH = [[], [8, 4], [2, 3], [12, 4, 2, 4], [], [8, 4], [2, 3], []];

  var fmt = new Intl.NumberFormat("en");
  var pctFmt = new Intl.NumberFormat("en", { maximumFractionDigits: 1, minimumFractionDigits: 1 });
  var monthFmt = new Intl.DateTimeFormat("en", { month: "long", year: "numeric", timeZone: "UTC" });

  var measureSelect = document.getElementById("measure");
  var periodSelect = document.getElementById("period");
  var levelSelect = document.getElementById("level");
  var statusEl = document.getElementById("status");

  var state = {
    months: [], // [{month: "2024-01", count: 123|null}]
    places: {}, // level -> GeoJSON FeatureCollection
    geoLayer: null,
    map: null,
    chart: null,
    request: 0
  };

  function kind() { return measureSelect.value; }
  function measure() { return MEASURES[kind()] || MEASURES.movements; }
  function placeUrl(pcode) { return ROOT + "/place/" + encodeURIComponent(pcode); }

  function getJSON(path, params) {
    var query = new URLSearchParams();
    (params || []).forEach(function (pair) { query.append(pair[0], pair[1]); });
    var url = API + path + (params && params.length ? "?" + query.toString() : "");
    return fetch(url, { headers: { Accept: "application/json" } }).then(function (response) {
      if (!response.ok) {
        return response.text().then(function (text) {
          throw new Error(url + " answered " + response.status + ": " + text.slice(0, 200));
        });
      }
      return response.json();
    });
  }

  function setStatus(text, isError) {
    statusEl.textContent = text;
    statusEl.classList.toggle("error", !!isError);
  }

  function monthLabel(month) {
    var parts = month.split("-");
    return monthFmt.format(new Date(Date.UTC(+parts[0], +parts[1] - 1, 1)));
  }

  function monthRange(month) {
    var parts = month.split("-");
    var last = new Date(Date.UTC(+parts[0], +parts[1], 0)).getUTCDate();
    return [month + "-01", month + "-" + String(last).padStart(2, "0")];
  }

  function formatCount(value) {
    return value === null || value === undefined ? "redacted" : fmt.format(value);
  }

  // --- headline ------------------------------------------------------------------------------

  function updateHeadline(month) {
    var index = state.months.findIndex(function (m) { return m.month === month; });
    var current = index >= 0 ? state.months[index].count : null;
    var previous = index > 0 ? state.months[index - 1] : null;
    document.getElementById("headline-measure").textContent = measure().noun;
    document.getElementById("headline-month").textContent = monthLabel(month);
    document.getElementById("headline-arrivals").textContent = formatCount(current);
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
        text += " (" + sign + pctFmt.format(Math.abs(diff) / previous.count * 100) + "%)";
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
    var legend = document.getElementById("legend");
    legend.textContent = "";
    var labels = [];
    labels.push("under " + fmt.format(limits[0]));
    for (var i = 1; i < limits.length; i++) {
      labels.push(fmt.format(limits[i - 1]) + "–" + fmt.format(limits[i] - 1));
    }
    labels.push(fmt.format(limits[limits.length - 1]) + " or more");
    labels.forEach(function (label, i) { legend.appendChild(legendItem(RAMP[i], label)); });
    legend.appendChild(legendItem(NO_DATA, "no data / redacted"));
  }

  function legendItem(colour, label) {
    var item = document.createElement("li");
    item.className = "legend-item";
    var swatch = document.createElement("span");
    swatch.className = "swatch";
    swatch.style.background = colour;
    swatch.setAttribute("aria-hidden", "true");
    item.appendChild(swatch);
    item.appendChild(document.createTextNode(label));
    return item;
  }

  function ensureMap() {
    if (state.map) { return state.map; }
    state.map = L.map("map", {
      renderer: L.svg(),
      attributionControl: false,
      zoomSnap: 0.25,
      minZoom: 3,
      maxZoom: 12
    });
    return state.map;
  }

  function loadPlaces(level) {
    if (state.places[level]) { return Promise.resolve(state.places[level]); }
    return getJSON("/places", [["level", level], ["geometry", "true"]]).then(function (collection) {
      collection.features = collection.features.filter(function (f) { return f.geometry; });
      state.places[level] = collection;
      return collection;
    });
  }

  function drawAreas(collection) {
    var map = ensureMap();
    if (state.geoLayer) { map.removeLayer(state.geoLayer); }
    state.geoLayer = L.geoJSON(collection, {
      style: function () {
        return { color: "#333333", weight: 1, fillColor: NO_DATA, fillOpacity: 0.9 };
      },
      onEachFeature: function (feature, layer) {
        // the SVG path exists only once the map has a view and the layer is on it
        layer.on("add", function () {
          layer.getElement().setAttribute("data-pcode", feature.properties.pcode);
        });
        layer.on("click", function () { window.location.href = placeUrl(feature.properties.pcode); });
      }
    });
    if (collection.features.length) {
      map.fitBounds(state.geoLayer.getBounds(), { padding: [8, 8] });
    } else {
      map.setView([0, 0], 3);
    }
    state.geoLayer.addTo(map);
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
        (value === undefined ? "no " + measure().lower + " recorded" : formatCount(value) + " " + measure().lower);
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
      var tr = document.createElement("tr");
      tr.dataset.pcode = r.pcode;
      var name = document.createElement("td");
      var link = document.createElement("a");
      link.href = placeUrl(r.pcode);
      link.textContent = r.name;
      name.appendChild(link);
      tr.appendChild(name);
      var code = document.createElement("td");
      code.textContent = r.pcode;
      tr.appendChild(code);
      var count = document.createElement("td");
      count.className = "num";
      count.textContent = r.value === undefined ? "no data" : formatCount(r.value);
      tr.appendChild(count);
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
    var range = monthRange(month);
    return Promise.all([
      loadPlaces(level),
      getJSON("/totals/" + kind(), [["by", "adm" + level], ["from", range[0]], ["to", range[1]], ["limit", "10000"]])
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

  function monthToSeconds(month) {
    var parts = month.split("-");
    return Date.UTC(+parts[0], +parts[1] - 1, 1) / 1000;
  }

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
    var data = [months.map(monthToSeconds)];
    reasons.forEach(function (reason) {
      data.push(months.map(function (m) {
        // no row: no arrivals for that reason that month; a null count: redacted (a gap in the line)
        var v = values[m + "|" + reason];
        return v === undefined ? 0 : v;
      }));
    });
    var container = document.getElementById("trend");
    var options = {
      width: Math.max(container.clientWidth, 300),
      height: 300,
      tzDate: function (ts) { return uPlot.tzDate(new Date(ts * 1000), "Etc/UTC"); },
      scales: { x: { time: true } },
      axes: [
        { stroke: "#1a1a1a", grid: { stroke: "#e3e3e3" }, space: 60 },
        { stroke: "#1a1a1a", grid: { stroke: "#e3e3e3" }, size: 60, label: measure().noun,
          values: function (u, ticks) { return ticks.map(function (t) { return fmt.format(t); }); } }
      ],
      series: [{ label: "Month", value: "{MMM} {YYYY}" }].concat(reasons.map(function (reason, i) {
        return {
          label: reason,
          stroke: SERIES_COLOURS[i % SERIES_COLOURS.length],
          dash: SERIES_DASH[i % SERIES_DASH.length],
          width: 2,
          value: function (u, v) { return v === null ? "–" : fmt.format(v); }
        };
      }))
    };
    if (state.chart) { state.chart.destroy(); }
    container.textContent = "";
    state.chart = new uPlot(options, data, container);
  }

  function resizeTrend() {
    if (!state.chart) { return; }
    var container = document.getElementById("trend");
    state.chart.setSize({ width: Math.max(container.clientWidth, 300), height: 300 });
  }

  // --- wiring --------------------------------------------------------------------------------

  function fillPeriods(rows) {
    state.months = rows
      .filter(function (r) { return r.month; })
      .map(function (r) { return { month: r.month, count: r.count }; })
      .sort(function (a, b) { return a.month < b.month ? -1 : a.month > b.month ? 1 : 0; });
    periodSelect.textContent = "";
    state.months.slice().reverse().forEach(function (m) {
      var option = document.createElement("option");
      option.value = m.month;
      option.textContent = monthLabel(m.month);
      periodSelect.appendChild(option);
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
    setStatus("Could not load the data: " + (error && error.message ? error.message : error), true);
  }

  function load() {
    document.body.removeAttribute("data-ready");
    setStatus("Loading…");
    ensureMap();
    document.getElementById("map-title").textContent = measure().noun + " by area";
    document.getElementById("trend-title").textContent = measure().trend;
    document.getElementById("trend").setAttribute("aria-label", "Line chart: " + measure().trend.toLowerCase());
    var periods = getJSON("/totals/" + kind(), [["by", "month"], ["limit", "10000"]]).then(function (body) {
      fillPeriods(body.rows);
      if (!state.months.length) {
        setStatus("No " + measure().lower + " recorded yet.");
        return loadPlaces(levelSelect.value).then(drawAreas);
      }
      updateHeadline(periodSelect.value);
      return refreshMap();
    });
    var trend = getJSON("/totals/" + kind(), [["by", "month"], ["by", "reason"], ["limit", "10000"]]).then(
      function (body) { renderTrend(body.rows); }
    );
    return Promise.all([periods, trend]).then(function () {
      if (state.months.length) { setStatus(""); }
      document.body.setAttribute("data-ready", "true");
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
