/* The foresight page: forecasts per area from GET /api/v1/forecasts/{kind} and the trigger status from
   GET /api/v1/triggers.
   * a map of the forecast change (the last month ahead against the latest month observed; Leaflet, no tiles:
     the admin boundaries are the base map), diverging blue (fewer) to red (more), with the same figures as a
     table whose area names choose the chart's area;
   * a fan chart of the chosen area (uPlot): the observed months, the forecast mean and its prediction interval
     as a shaded band, with its figures as a table;
   * the early-warning triggers: firing, not firing or undetermined, area by area with the figures behind.
   Every request goes to this server; nothing is fetched from anywhere else. */
(function () {
  "use strict";

  var FIGURES = {
    movements: { noun: "Arrivals", lower: "arrivals" },
    displacement: { noun: "People displaced", lower: "people displaced" }
  };
  // ColorBrewer "RdBu" (diverging, colour-blind safe): blue for fewer, red for more, near-white for no change.
  var CHANGE_COLOURS = ["#2166ac", "#67a9cf", "#d1e5f0", "#f7f7f7", "#fddbc7", "#ef8a62", "#b2182b"];
  var CHANGE_BREAKS = [-50, -20, -5, 5, 20, 50]; // percent
  var CHANGE_LABELS = [
    "fall of 50 % or more", "fall of 20–50 %", "fall of 5–20 %", "about the same (within 5 %)",
    "rise of 5–20 %", "rise of 20–50 %", "rise of 50 % or more"
  ];
  var NO_DATA = "#d9d9d9";
  var AREA_STYLE = { color: "#4a4a4a", weight: 1, fillColor: NO_DATA, fillOpacity: 0.9 };
  // lines: dark blue observed (solid), dark orange forecast (dashed); the band is the same orange, light
  var OBSERVED = "#08519c";
  var FORECAST = "#a63603";
  var BAND = "rgba(230, 97, 1, 0.25)";

  var fmt = OTM.formats.whole;
  var el = OTM.el;
  var monthLabel = OTM.monthLabel;
  var shortMonth = OTM.shortMonth;

  var kindSelect = document.getElementById("kind");
  var levelSelect = document.getElementById("level");
  var horizonSelect = document.getElementById("horizon");
  var intervalSelect = document.getElementById("interval");
  var areaSelect = document.getElementById("area");

  var state = {
    geoLayer: null,
    map: null,
    chart: null,
    body: null, // the latest /forecasts answer
    byPlace: {},
    area: null,
    ticket: 0
  };

  // --- helpers -------------------------------------------------------------------------------

  function figures() { return FIGURES[kindSelect.value] || FIGURES.movements; }
  function levelNumber() { return levelSelect.value.replace("adm", ""); }

  function formatCount(value) {
    return value === null || value === undefined ? "redacted" : fmt.format(Math.round(value));
  }

  function signed(value, text) {
    return (value > 0 ? "+" : value < 0 ? "−" : "±") + text;
  }

  function formatChange(change) {
    return change.absolute === null ? "–" : signed(change.absolute, fmt.format(Math.abs(Math.round(change.absolute))));
  }

  function formatPercent(change) {
    if (change.percent === null) {
      return change.absolute !== null && change.observed === 0 ? "new" : "–";
    }
    return signed(change.percent, OTM.formats.oneDecimal.format(Math.abs(change.percent)) + " %");
  }

  // --- the map of change -----------------------------------------------------------------------

  function changeClass(change) {
    if (change.percent !== null) {
      for (var i = 0; i < CHANGE_BREAKS.length; i++) {
        if (change.percent < CHANGE_BREAKS[i]) { return i; }
      }
      return CHANGE_BREAKS.length;
    }
    if (change.absolute === null) { return -1; }
    // nothing observed in the latest month: any forecast above zero is a rise
    return change.absolute > 0 ? CHANGE_COLOURS.length - 1 : change.absolute < 0 ? 0 : 3;
  }

  function renderLegend() {
    OTM.fillLegend("legend", CHANGE_LABELS.map(function (label, i) { return [CHANGE_COLOURS[i], label]; })
      .concat([[NO_DATA, "no forecast / redacted"]]));
  }

  function ensureMap() {
    if (!state.map) { state.map = OTM.baseMap("map"); }
    return state.map;
  }

  function drawAreas(collection) {
    state.geoLayer = OTM.showAreas(ensureMap(), state.geoLayer, collection, AREA_STYLE, function (pcode) {
      if (state.byPlace[pcode]) { chooseArea(pcode); }
    });
  }

  function colourAreas() {
    state.geoLayer.eachLayer(function (layer) {
      var props = layer.feature.properties;
      var place = state.byPlace[props.pcode];
      var index = place ? changeClass(place.change) : -1;
      var selected = props.pcode === state.area;
      layer.setStyle({
        fillColor: index < 0 ? NO_DATA : CHANGE_COLOURS[index],
        color: selected ? "#000000" : "#4a4a4a",
        weight: selected ? 3 : 1
      });
      if (selected) { layer.bringToFront(); }
      layer.unbindTooltip();
      layer.bindTooltip(tooltipText(props, place), { sticky: true });
      var element = layer.getElement();
      if (element) {
        element.setAttribute("data-change", place && place.change.percent !== null ? String(place.change.percent) : "");
        element.setAttribute("data-class", String(index));
        element.classList.toggle("selected-area", selected);
      }
    });
  }

  function tooltipText(props, place) {
    var name = props.name + " (" + props.pcode + ")";
    if (!place) { return name + ": no forecast"; }
    var c = place.change;
    return name + ": " + formatCount(c.observed) + " in " + shortMonth(c.observed_period) + ", forecast " +
      formatCount(c.mean) + " in " + shortMonth(c.period) + " (" + formatChange(c) + ", " + formatPercent(c) + ")";
  }

  function fillChangeTable(body) {
    var tbody = document.querySelector("#change-table tbody");
    tbody.textContent = "";
    var rows = body.places.slice().sort(function (a, b) {
      var av = a.change.absolute === null ? -Infinity : a.change.absolute;
      var bv = b.change.absolute === null ? -Infinity : b.change.absolute;
      return bv - av || (a.name < b.name ? -1 : 1);
    });
    rows.forEach(function (place) {
      var tr = el("tr", { "data-pcode": place.place });
      var th = el("th", { scope: "row" });
      var button = el("button", { type: "button", "class": "link-button", "data-pcode": place.place }, place.name || place.place);
      button.setAttribute("aria-pressed", place.place === state.area ? "true" : "false");
      button.addEventListener("click", function () { chooseArea(place.place); });
      th.appendChild(button);
      tr.appendChild(th);
      tr.appendChild(el("td", {}, place.place));
      tr.appendChild(el("td", { "class": "num" }, formatCount(place.change.observed)));
      tr.appendChild(el("td", { "class": "num" }, formatCount(place.change.mean)));
      tr.appendChild(el("td", { "class": "num" }, formatChange(place.change)));
      tr.appendChild(el("td", { "class": "num" }, formatPercent(place.change)));
      tbody.appendChild(tr);
    });
    var last = body.periods[body.periods.length - 1];
    document.getElementById("change-observed-head").textContent = shortMonth(body.origin);
    document.getElementById("change-forecast-head").textContent = "Forecast " + shortMonth(last);
    document.getElementById("change-caption").textContent =
      figures().noun + ": forecast for " + monthLabel(last) + " against " + monthLabel(body.origin) + ", by area";
    document.getElementById("map-subtitle").textContent =
      figures().noun + " forecast for " + monthLabel(last) + " against " + monthLabel(body.origin) + " (observed).";
    document.getElementById("map").setAttribute(
      "aria-label",
      "Map of the forecast change in " + figures().lower + " by area, " + monthLabel(last) + " against " +
        monthLabel(body.origin) + ": blue means fewer, red more; the same figures are in the table below the map"
    );
  }

  // --- the fan chart -------------------------------------------------------------------------

  function fanData(place) {
    var months = [];
    var observed = [];
    var mean = [];
    var lo = [];
    var hi = [];
    place.history.forEach(function (h, i) {
      var last = i === place.history.length - 1;
      months.push(h.period);
      observed.push(h.value);
      // the forecast starts from the last observation, so that the fan opens from it
      mean.push(last ? h.value : null);
      lo.push(last ? h.value : null);
      hi.push(last ? h.value : null);
    });
    place.forecast.forEach(function (f) {
      months.push(f.period);
      observed.push(null);
      mean.push(f.mean);
      lo.push(f.lo);
      hi.push(f.hi);
    });
    return { months: months, observed: observed, mean: mean, lo: lo, hi: hi };
  }

  function drawFan(place) {
    var container = document.getElementById("fan");
    var body = state.body;
    var d = fanData(place);
    var interval = body.interval + " %";
    var value = OTM.chartValue(function (v) { return fmt.format(Math.round(v)); });
    state.chart = OTM.lineChart(container, state.chart, {
      data: [d.months.map(OTM.monthSeconds), d.observed, d.mean, d.lo, d.hi],
      height: 300,
      yLabel: figures().noun,
      yFormat: fmt.format,
      yRange: function (u, min, max) { return [Math.min(0, min), max * 1.05 || 1]; },
      series: [
        { label: "Observed", stroke: OBSERVED, width: 2, value: value },
        { label: "Forecast", stroke: FORECAST, width: 2, dash: [8, 4], value: value },
        { label: "Lower " + interval, stroke: FORECAST, width: 1, dash: [2, 3], value: value },
        { label: "Upper " + interval, stroke: FORECAST, width: 1, dash: [2, 3], value: value }
      ],
      bands: [{ series: [4, 3], fill: BAND }]
    });
    container.setAttribute("data-place", place.place);
    container.setAttribute("data-band", String(body.interval));
    container.setAttribute(
      "aria-label",
      "Fan chart of " + figures().lower + " in " + (place.name || place.place) + ": observed from " +
        monthLabel(d.months[0]) + " to " + monthLabel(body.origin) + ", forecast to " +
        monthLabel(d.months[d.months.length - 1]) + " with its " + interval + " prediction interval as a band; " +
        "the figures are in the table below the chart"
    );
    document.getElementById("fan-title").textContent = figures().noun + ": forecast for " + (place.name || place.place);
    document.getElementById("fan-caption").textContent =
      "Solid blue line: observed. Dashed orange line: forecast. Shaded band: " + interval + " prediction interval.";
    fillFanTable(place, d, interval);
  }

  function fillFanTable(place, d, interval) {
    document.getElementById("fan-lo-head").textContent = "Lower " + interval;
    document.getElementById("fan-hi-head").textContent = "Upper " + interval;
    document.getElementById("fan-table-caption").textContent =
      figures().noun + " in " + (place.name || place.place) + ": observed and forecast by month";
    var tbody = document.querySelector("#fan-table tbody");
    tbody.textContent = "";
    var observedMonths = place.history.length;
    d.months.forEach(function (month, i) {
      var forecast = i >= observedMonths;
      var tr = el("tr", { "data-month": month, "class": forecast ? "forecast-row" : "" });
      tr.appendChild(el("th", { scope: "row" }, monthLabel(month) + (forecast ? " (forecast)" : "")));
      tr.appendChild(el("td", { "class": "num" }, forecast ? "" : formatCount(d.observed[i])));
      tr.appendChild(el("td", { "class": "num" }, forecast ? formatCount(d.mean[i]) : ""));
      tr.appendChild(el("td", { "class": "num" }, forecast ? formatCount(d.lo[i]) : ""));
      tr.appendChild(el("td", { "class": "num" }, forecast ? formatCount(d.hi[i]) : ""));
      tbody.appendChild(tr);
    });
  }

  function resizeFan() {
    OTM.resizeChart(state.chart, document.getElementById("fan"), 300);
  }

  function fillAreaSelect(body) {
    areaSelect.textContent = "";
    body.places.slice().sort(function (a, b) { return (a.name || a.place).localeCompare(b.name || b.place); })
      .forEach(function (place) {
        areaSelect.appendChild(el("option", { value: place.place }, (place.name || place.place) + " (" + place.place + ")"));
      });
    areaSelect.disabled = body.places.length === 0;
  }

  function defaultArea(body) {
    // the area with the largest forecast increase; else the first
    var best = null;
    body.places.forEach(function (place) {
      var value = place.change.absolute;
      if (value !== null && (best === null || value > best.change.absolute)) { best = place; }
    });
    return best ? best.place : (body.places[0] ? body.places[0].place : null);
  }

  function chooseArea(pcode) {
    var place = state.byPlace[pcode];
    if (!place) { return; }
    state.area = pcode;
    areaSelect.value = pcode;
    drawFan(place);
    colourAreas();
    document.querySelectorAll("#change-table button[data-pcode]").forEach(function (button) {
      button.setAttribute("aria-pressed", button.getAttribute("data-pcode") === pcode ? "true" : "false");
    });
  }

  // --- forecasts -----------------------------------------------------------------------------

  function loadForecasts() {
    var ticket = ++state.ticket;
    var kind = kindSelect.value;
    OTM.setStatus("Computing forecasts… the first time takes up to a minute.");
    document.getElementById("foresight-controls").setAttribute("aria-busy", "true");
    var params = [
      ["level", levelSelect.value], ["horizon", horizonSelect.value], ["interval", intervalSelect.value]
    ];
    return Promise.all([OTM.boundaries(levelNumber()), OTM.getJSON("/forecasts/" + kind, params)]).then(function (results) {
      if (ticket !== state.ticket) { return; } // a newer choice superseded this one
      var body = results[1];
      state.body = body;
      state.byPlace = {};
      body.places.forEach(function (place) { state.byPlace[place.place] = place; });
      drawAreas(results[0]);
      if (!state.byPlace[state.area]) { state.area = defaultArea(body); }
      fillAreaSelect(body);
      fillChangeTable(body);
      renderLegend();
      if (state.area) {
        chooseArea(state.area);
      } else {
        colourAreas();
        if (state.chart) { state.chart.destroy(); state.chart = null; }
      }
      var last = body.periods[body.periods.length - 1];
      var text = body.places.length
        ? figures().noun + " forecast with data up to " + monthLabel(body.origin) + " for " +
          monthLabel(body.periods[0]) + (body.periods.length > 1 ? " – " + monthLabel(last) : "") + " (" +
          body.interval + " % intervals" + (body.redacted ? "; figures under " + body.threshold + " are redacted" : "") + ")."
        : "No area to show.";
      OTM.setStatus(text);
    }, function (error) {
      if (ticket !== state.ticket) { return; }
      state.body = null;
      state.byPlace = {};
      OTM.setStatus("Could not compute the forecasts: " + OTM.errorText(error), true);
      return OTM.boundaries(levelNumber()).then(function (collection) {
        drawAreas(collection);
        colourAreas();
      });
    }).then(function () {
      if (ticket === state.ticket) { document.getElementById("foresight-controls").removeAttribute("aria-busy"); }
    });
  }

  // --- triggers ------------------------------------------------------------------------------

  var STATES = {
    firing: { label: "Firing", className: "state-firing" },
    quiet: { label: "Not firing", className: "state-quiet" },
    undetermined: { label: "Undetermined", className: "state-undetermined" },
    error: { label: "Not evaluated", className: "state-error" }
  };

  function triggerState(trig) {
    if (trig.error) { return "error"; }
    return trig.firing === true ? "firing" : trig.firing === false ? "quiet" : "undetermined";
  }

  function decisionText(fires) {
    return fires === true ? "fires" : fires === false ? "does not fire" : "undetermined";
  }

  function renderTrigger(trig) {
    var key = triggerState(trig);
    var article = el("article", { "class": "trigger " + STATES[key].className, "data-trigger": trig.name, "data-state": key });
    var heading = el("h3", { "class": "trigger-name" });
    heading.appendChild(el("span", { "class": "badge" }, STATES[key].label));
    heading.appendChild(document.createTextNode(" " + trig.name));
    article.appendChild(heading);
    if (trig.description) { article.appendChild(el("p", { "class": "trigger-description" }, trig.description)); }
    var facts = el("dl", { "class": "trigger-facts" });
    [["Fires when", trig.condition], ["Anticipates", trig.event], ["Month tested", trig.as_of ? monthLabel(trig.as_of) : "–"]]
      .forEach(function (pair) {
        var row = el("div");
        row.appendChild(el("dt", {}, pair[0]));
        row.appendChild(el("dd", {}, pair[1]));
        facts.appendChild(row);
      });
    article.appendChild(facts);
    if (trig.error) {
      article.appendChild(el("p", { "class": "trigger-error" }, "Could not be evaluated on this store: " + trig.error));
      return article;
    }
    var firing = trig.areas.filter(function (a) { return a.fires === true; });
    var undecided = trig.areas.filter(function (a) { return a.fires === null; });
    var summary = firing.length
      ? "Fires in " + firing.length + " of " + trig.areas.length + " areas: " +
        firing.map(function (a) { return a.name || a.area; }).join(", ")
      : "Fires in none of " + trig.areas.length + " areas" + (undecided.length ? " (" + undecided.length + " undetermined)" : "");
    article.appendChild(el("p", { "class": "trigger-summary" }, summary + "."));
    var details = el("details", { "class": "trigger-areas" });
    if (firing.length) { details.setAttribute("open", ""); }
    details.appendChild(el("summary", {}, "Areas and the figures behind each decision"));
    var table = el("table", { "class": "data-table" });
    table.appendChild(el("caption", { "class": "visually-hidden" }, trig.name + ": decision by area"));
    var head = el("thead");
    var hr = el("tr");
    ["Area", "Decision", "Figures behind it"].forEach(function (h) { hr.appendChild(el("th", { scope: "col" }, h)); });
    head.appendChild(hr);
    table.appendChild(head);
    var body = el("tbody");
    trig.areas.slice().sort(function (a, b) {
      var rank = function (x) { return x.fires === true ? 0 : x.fires === null ? 1 : 2; };
      return rank(a) - rank(b) || (a.area < b.area ? -1 : 1);
    }).forEach(function (area) {
      var tr = el("tr", { "data-pcode": area.area, "data-fires": String(area.fires) });
      tr.appendChild(el("th", { scope: "row" }, (area.name || area.area) + " (" + area.area + ")"));
      tr.appendChild(el("td", { "class": "decision decision-" + (area.fires === true ? "yes" : area.fires === false ? "no" : "unknown") },
        decisionText(area.fires)));
      tr.appendChild(el("td", { "class": "evidence" }, area.explanation.replace(/ -> (yes|no|undetermined)$/, "")));
      body.appendChild(tr);
    });
    table.appendChild(body);
    details.appendChild(table);
    article.appendChild(details);
    return article;
  }

  function loadTriggers() {
    var box = document.getElementById("triggers");
    var note = document.getElementById("triggers-status");
    note.classList.remove("error");
    return OTM.getJSON("/triggers").then(function (body) {
      box.textContent = "";
      if (!body.configured) {
        note.textContent = "No triggers configured: start the server with a triggers file (setting `triggers`) to " +
          "see which early-warning triggers fire.";
        return;
      }
      var firing = body.triggers.filter(function (t) { return t.firing === true; }).length;
      note.textContent = body.triggers.length + " trigger" + (body.triggers.length === 1 ? "" : "s") + " from " +
        body.file + "; " + firing + " firing." + (body.redacted ? " Forecast figures under " + body.threshold + " are redacted." : "");
      body.triggers.forEach(function (trig) { box.appendChild(renderTrigger(trig)); });
    }, function (error) {
      note.textContent = "Could not check the triggers: " + OTM.errorText(error);
      note.classList.add("error");
    });
  }

  // --- wiring --------------------------------------------------------------------------------

  // data-ready marks the page drawn for the latest choice (and, at the start, the triggers too)
  function refresh(also) {
    OTM.notReady();
    var drawn = loadForecasts();
    var ticket = state.ticket;
    return Promise.all([drawn].concat(also || [])).then(function () {
      if (ticket === state.ticket) { OTM.ready(); }
    });
  }

  function start() {
    ensureMap();
    renderLegend();
    refresh([loadTriggers()]);
    [kindSelect, levelSelect, horizonSelect, intervalSelect].forEach(function (select) {
      select.addEventListener("change", function () {
        if (select === kindSelect || select === levelSelect) { state.area = null; }
        refresh();
      });
    });
    areaSelect.addEventListener("change", function () { chooseArea(areaSelect.value); });
    window.addEventListener("resize", resizeFan);
  }

  start();
})();
