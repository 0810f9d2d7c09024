/* The simulation page: the location graph from GET /api/v1/simulation/graph, runs from POST /api/v1/simulations.
   * a map (Leaflet, no tiles: the admin boundaries are the base map) of people per place (circles sized by
     people) and people setting out on each route (lines, wider and darker for more), for one day at a time;
   * a day slider and a play button to step through the days, and the day's largest movements as a table;
   * a chart (uPlot) of people in the camps that receive most, with its figures as a table;
   * a scenario form: close a route between two places, flare up an area, change a camp's capacity, from a date;
     running it again posts the scenario with the run.
   Every request goes to this server; nothing is fetched from anywhere else. */
(function () {
  "use strict";

  var DAY_MS = 86400000;
  // ColorBrewer "OrRd" (sequential): light orange for few people setting out, dark red for many
  var FLOW_COLOURS = ["#fdbb84", "#fc8d59", "#e34a33", "#b30000"];
  var FLOW_WEIGHTS = [2, 3.5, 5.5, 8];
  var FLOW_SHARES = [0, 0.05, 0.2, 0.5]; // of the largest flow of the run: where each class starts
  var NO_FLOW = "#bdbdbd";
  var CLOSED = "#1a1a1a";
  var KIND_COLOURS = { camp: "#2166ac", idpcamp: "#2166ac", town: "#737373", conflict: "#b2182b" };
  // ColorBrewer "Dark2": one colour per camp line
  var LINE_COLOURS = ["#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#a6761d"];
  var TOP_CAMPS = 6;
  var TOP_FLOWS = 10;
  var PLAY_MS = 450;
  var AREA_STYLE = { color: "#8c8c8c", weight: 1, fillColor: "#f0f0f0", fillOpacity: 0.8 };

  var fmt = OTM.formats.whole;
  var el = OTM.el;
  var setStatus = OTM.setStatus;
  var longDate = OTM.longDate;

  var daysSelect = document.getElementById("days");
  var modeSelect = document.getElementById("mode");
  var slider = document.getElementById("day");
  var dayLabel = document.getElementById("day-label");
  var playButton = document.getElementById("play");
  var form = document.getElementById("scenario-form");

  var state = {
    graph: null, // GET /simulation/graph
    index: {}, // location id -> index
    sim: null, // the latest POST /simulations answer
    pairs: [], // one per road: {key, a, b, forward, backward, distance}
    pairFlows: [], // [reported day][pair]: people setting out either way
    maxFlow: 0,
    maxPeople: 0,
    map: null,
    areaLayer: null,
    routeLayers: {}, // pair key -> polyline
    placeLayers: [], // location index -> circle marker
    chart: null,
    changes: { closures: [], conflicts: [], capacities: [] },
    position: null, // reported-day index shown
    timer: null,
    ticket: 0
  };

  // --- helpers -------------------------------------------------------------------------------------------

  function isoDate(date) { return date.toISOString().slice(0, 10); }
  function addDays(iso, n) { return isoDate(new Date(OTM.parseDate(iso).getTime() + n * DAY_MS)); }

  function startDate() { return state.sim ? state.sim.start : state.graph.defaults.start; }
  function runDays() { return state.sim ? state.sim.days : +daysSelect.value; }

  // a scenario's day: a day number, or an ISO date counted from the first day
  function dayNumber(value) {
    if (typeof value === "number") { return value; }
    return Math.round((OTM.parseDate(value).getTime() - OTM.parseDate(startDate()).getTime()) / DAY_MS);
  }

  function locName(id) {
    var i = state.index[id];
    return i === undefined ? id : state.graph.locations[i].name;
  }

  // camps' own names repeat from one district to the next: a camp is named with its district
  function campLabel(loc) {
    return loc.area && loc.area !== loc.id && state.index[loc.area] !== undefined ? loc.name + ", " + locName(loc.area) : loc.name;
  }

  function pairKey(a, b) { return a < b ? a + "|" + b : b + "|" + a; }

  // --- the graph and the base map ------------------------------------------------------------------------

  function ensureMap() {
    if (!state.map) { state.map = OTM.baseMap("map"); }
    return state.map;
  }

  function drawAreas(collection) {
    var map = ensureMap();
    if (state.areaLayer) { map.removeLayer(state.areaLayer); }
    state.areaLayer = OTM.areaLayer(collection, AREA_STYLE); // on the map once the view is set (drawGraph)
  }

  function buildPairs(routes) {
    var byKey = {};
    var pairs = [];
    routes.forEach(function (r, i) {
      var key = pairKey(r.source, r.target);
      var pair = byKey[key];
      if (!pair) {
        pair = { key: key, a: r.source < r.target ? r.source : r.target, b: r.source < r.target ? r.target : r.source,
          forward: -1, backward: -1, distance: r.distance_km };
        byKey[key] = pair;
        pairs.push(pair);
      }
      if (r.source === pair.a) { pair.forward = i; } else { pair.backward = i; }
    });
    return pairs;
  }

  function drawGraph() {
    var map = ensureMap();
    var g = state.graph;
    Object.keys(state.routeLayers).forEach(function (key) { map.removeLayer(state.routeLayers[key]); });
    state.placeLayers.forEach(function (layer) { map.removeLayer(layer); });
    state.routeLayers = {};
    state.placeLayers = [];
    // the view first: Leaflet draws a layer only on a map that has one
    var bounds = L.latLngBounds(g.locations.map(function (loc) { return [loc.lat, loc.lon]; }));
    if (state.areaLayer && state.areaLayer.getLayers().length) { bounds.extend(state.areaLayer.getBounds()); }
    if (bounds.isValid()) { map.fitBounds(bounds, { padding: [8, 8] }); } else { map.setView([0, 0], 3); }
    if (state.areaLayer) { state.areaLayer.addTo(map); }
    state.pairs = buildPairs(g.routes);
    state.pairs.forEach(function (pair) {
      var a = g.locations[state.index[pair.a]];
      var b = g.locations[state.index[pair.b]];
      var line = L.polyline([[a.lat, a.lon], [b.lat, b.lon]], { color: NO_FLOW, weight: 1, opacity: 0.8 });
      line.on("add", function () {
        var node = line.getElement();
        node.setAttribute("data-route", pair.key);
        node.classList.add("route");
      });
      line.addTo(map);
      state.routeLayers[pair.key] = line;
    });
    g.locations.forEach(function (loc) {
      var circle = L.circleMarker([loc.lat, loc.lon], {
        radius: 3, color: "#ffffff", weight: 1, fillColor: KIND_COLOURS[loc.kind] || "#737373", fillOpacity: 0.85
      });
      circle.on("add", function () {
        var node = circle.getElement();
        node.setAttribute("data-id", loc.id);
        node.setAttribute("data-kind", loc.kind);
        node.classList.add("place");
      });
      circle.addTo(map);
      state.placeLayers.push(circle);
    });
  }

  function fillScenarioControls() {
    var g = state.graph;
    var byName = g.locations.slice().sort(function (x, y) { return x.name.localeCompare(y.name) || (x.id < y.id ? -1 : 1); });
    var fromSelect = document.getElementById("close-from");
    var areaSelect = document.getElementById("flare-area");
    var campSelect = document.getElementById("capacity-camp");
    [fromSelect, areaSelect, campSelect].forEach(function (s) { s.textContent = ""; });
    byName.forEach(function (loc) {
      var label = loc.name + " (" + loc.id + ")";
      fromSelect.appendChild(el("option", { value: loc.id }, label));
      if (loc.kind === "town") { areaSelect.appendChild(el("option", { value: loc.id }, label)); }
      if (loc.kind === "camp" || loc.kind === "idpcamp") {
        var cap = loc.capacity === null ? "capacity unknown" : "holds " + fmt.format(loc.capacity);
        campSelect.appendChild(el("option", { value: loc.id, "data-capacity": loc.capacity === null ? "" : loc.capacity },
          label + ", " + cap));
      }
    });
    [fromSelect, areaSelect, campSelect].forEach(function (s) { s.disabled = s.options.length === 0; });
    fillNeighbours();
    fillCapacity();
  }

  function fillNeighbours() {
    var from = document.getElementById("close-from").value;
    var toSelect = document.getElementById("close-to");
    toSelect.textContent = "";
    var seen = {};
    state.graph.routes.forEach(function (r) {
      if (r.source !== from || seen[r.target]) { return; }
      seen[r.target] = true;
      toSelect.appendChild(el("option", { value: r.target },
        locName(r.target) + " (" + r.target + "), " + fmt.format(r.distance_km) + " km"));
    });
    toSelect.disabled = toSelect.options.length === 0;
  }

  function fillCapacity() {
    var option = document.getElementById("capacity-camp").selectedOptions[0];
    var value = document.getElementById("capacity-value");
    if (option && option.getAttribute("data-capacity")) {
      value.value = String(Math.max(1, Math.round(+option.getAttribute("data-capacity") / 2)));
    }
  }

  function setDateLimits() {
    var first = startDate();
    var last = addDays(first, runDays() - 1);
    ["close-start", "close-end", "flare-start", "capacity-start"].forEach(function (id) {
      var input = document.getElementById(id);
      input.min = first;
      input.max = last;
      if (input.value && (input.value < first || input.value > last)) { input.value = ""; }
    });
    var soon = addDays(first, Math.min(7, runDays() - 1));
    if (!document.getElementById("close-start").value) { document.getElementById("close-start").value = soon; }
    if (!document.getElementById("flare-start").value) { document.getElementById("flare-start").value = soon; }
    if (!document.getElementById("capacity-start").value) { document.getElementById("capacity-start").value = first; }
  }

  // --- the scenario ----------------------------------------------------------------------------------------

  function describeChange(kind, change) {
    if (kind === "closures") {
      return "Route " + locName(change.name1) + " – " + locName(change.name2) + " closed from " + longDate(change.start) +
        (change.end ? " until " + longDate(change.end) : "");
    }
    if (kind === "conflicts") {
      return locName(change.location) + " in conflict from " + longDate(change.start) + " (intensity " + change.intensity + ")";
    }
    return locName(change.location) + " holds " + fmt.format(change.capacity) + " people from " + longDate(change.start);
  }

  function renderChanges() {
    var list = document.getElementById("changes");
    list.textContent = "";
    var count = 0;
    ["closures", "conflicts", "capacities"].forEach(function (kind) {
      state.changes[kind].forEach(function (change, i) {
        count += 1;
        var text = describeChange(kind, change);
        var item = el("li", { "data-kind": kind }, text);
        var remove = el("button", { type: "button", "class": "secondary", "aria-label": "Remove: " + text }, "Remove");
        remove.addEventListener("click", function () {
          state.changes[kind].splice(i, 1);
          renderChanges();
        });
        item.appendChild(remove);
        list.appendChild(item);
      });
    });
    if (!count) { list.appendChild(el("li", { "class": "none" }, "None: the simulation continues the latest month.")); }
  }

  function scenarioBody() {
    var c = state.changes;
    if (!c.closures.length && !c.conflicts.length && !c.capacities.length) { return null; }
    return {
      name: "dashboard scenario",
      closures: c.closures.map(function (x) {
        var out = { type: "link", name1: x.name1, name2: x.name2, start: x.start };
        if (x.end) { out.end = x.end; }
        return out;
      }),
      conflicts: c.conflicts.map(function (x) { return { location: x.location, start: x.start, intensity: x.intensity }; }),
      capacities: c.capacities.map(function (x) { return { location: x.location, capacity: x.capacity, start: x.start }; })
    };
  }

  function addClosure() {
    var name1 = document.getElementById("close-from").value;
    var name2 = document.getElementById("close-to").value;
    var start = document.getElementById("close-start").value;
    var end = document.getElementById("close-end").value;
    if (!name1 || !name2 || !start) { setStatus("Choose both places and the day the route closes.", true); return; }
    state.changes.closures.push({ name1: name1, name2: name2, start: start, end: end || null });
    renderChanges();
  }

  function addFlare() {
    var location = document.getElementById("flare-area").value;
    var start = document.getElementById("flare-start").value;
    var intensity = +document.getElementById("flare-intensity").value || 1;
    if (!location || !start) { setStatus("Choose the area and the day it flares up.", true); return; }
    state.changes.conflicts.push({ location: location, start: start, intensity: intensity });
    renderChanges();
  }

  function addCapacity() {
    var location = document.getElementById("capacity-camp").value;
    var capacity = Math.round(+document.getElementById("capacity-value").value);
    var start = document.getElementById("capacity-start").value;
    if (!location || !(capacity >= 1) || !start) { setStatus("Choose the camp, a capacity of at least 1 and the day.", true); return; }
    state.changes.capacities.push({ location: location, capacity: capacity, start: start });
    renderChanges();
  }

  // conflict zones and closed roads on a day, from the run's origins and scenario
  function conflictZones(day) {
    var zones = {};
    state.sim.parameters.origins.forEach(function (o) { zones[o.location] = true; });
    var sc = state.sim.scenario;
    ((sc && sc.conflicts) || []).forEach(function (c) {
      if (dayNumber(c.start) <= day && (c.end === undefined || c.end === null || day < dayNumber(c.end))) {
        zones[c.location] = true;
      }
    });
    return zones;
  }

  function closedPairs(day) {
    var closed = {};
    var sc = state.sim.scenario;
    ((sc && sc.closures) || []).forEach(function (c) {
      if (!(dayNumber(c.start) <= day && (c.end === undefined || c.end === null || day < dayNumber(c.end)))) { return; }
      if (c.type === "link") { closed[pairKey(c.name1, c.name2)] = true; }
      if (c.type === "location") {
        state.pairs.forEach(function (p) { if (p.a === c.name1 || p.b === c.name1) { closed[p.key] = true; } });
      }
    });
    return closed;
  }

  // --- a day on the map ------------------------------------------------------------------------------------

  function flowClass(value) {
    if (!(value >= 0.5) || state.maxFlow <= 0) { return -1; }
    var k = 0;
    for (var i = 1; i < FLOW_SHARES.length; i++) { if (value >= FLOW_SHARES[i] * state.maxFlow) { k = i; } }
    return k;
  }

  function renderLegend() {
    var entries = [];
    function item(swatch, label) { entries.push([swatch, label]); }
    FLOW_COLOURS.forEach(function (colour, i) {
      var lo = i === 0 ? 1 : FLOW_SHARES[i] * state.maxFlow;
      var hi = i + 1 < FLOW_SHARES.length ? FLOW_SHARES[i + 1] * state.maxFlow : null;
      var line = el("span", { "class": "line-swatch" });
      line.style.borderTopColor = colour;
      line.style.borderTopWidth = FLOW_WEIGHTS[i] + "px";
      item(line, hi === null ? fmt.format(lo) + " or more a day" : fmt.format(lo) + "–" + fmt.format(hi) + " a day");
    });
    var closed = el("span", { "class": "line-swatch" });
    closed.style.borderTopColor = CLOSED;
    closed.style.borderTopStyle = "dashed";
    closed.style.borderTopWidth = "2px";
    item(closed, "closed");
    [["camp", "camp"], ["town", "district"], ["conflict", "conflict zone"]].forEach(function (pair) {
      var dot = el("span", { "class": "dot-swatch" });
      dot.style.background = KIND_COLOURS[pair[0]];
      item(dot, pair[1]);
    });
    OTM.fillLegend("legend", entries);
  }

  function showDay(position) {
    var sim = state.sim;
    if (!sim) { return; }
    state.position = position;
    var day = sim.day_numbers[position];
    var date = sim.dates[position];
    var people = sim.people[position];
    var zones = conflictZones(day);
    var closed = closedPairs(day);
    var flows = state.pairFlows[position];
    state.pairs.forEach(function (pair, j) {
      var line = state.routeLayers[pair.key];
      var value = flows[j];
      var k = flowClass(value);
      var isClosed = !!closed[pair.key];
      line.setStyle(isClosed
        ? { color: CLOSED, weight: 2, opacity: 1, dashArray: "6 4" }
        : { color: k < 0 ? NO_FLOW : FLOW_COLOURS[k], weight: k < 0 ? 1 : FLOW_WEIGHTS[k], opacity: k < 0 ? 0.6 : 0.95, dashArray: null });
      if (k >= 0 && !isClosed) { line.bringToFront(); }
      var node = line.getElement();
      if (node) {
        node.setAttribute("data-flow", String(value));
        node.setAttribute("data-closed", isClosed ? "true" : "false");
      }
      var ab = pair.forward >= 0 ? sim.flows[position][pair.forward] : 0;
      var ba = pair.backward >= 0 ? sim.flows[position][pair.backward] : 0;
      line.unbindTooltip();
      line.bindTooltip(locName(pair.a) + " → " + locName(pair.b) + ": " + fmt.format(ab) + "; " + locName(pair.b) + " → " +
        locName(pair.a) + ": " + fmt.format(ba) + " setting out (" + fmt.format(pair.distance) + " km)" +
        (isClosed ? "; closed" : ""), { sticky: true });
    });
    state.graph.locations.forEach(function (loc, i) {
      var circle = state.placeLayers[i];
      var value = people[i];
      var kind = zones[loc.id] ? "conflict" : loc.kind;
      circle.setRadius(3 + 15 * Math.sqrt(state.maxPeople > 0 ? value / state.maxPeople : 0));
      circle.setStyle({ fillColor: KIND_COLOURS[kind] || "#737373" });
      circle.bringToFront();
      var node = circle.getElement();
      if (node) {
        node.setAttribute("data-people", String(value));
        node.setAttribute("data-kind", kind);
      }
      circle.unbindTooltip();
      var cap = loc.capacity ? " of " + fmt.format(loc.capacity) + " places" : "";
      circle.bindTooltip(loc.name + " (" + loc.id + "): " + fmt.format(value) + " people" + cap +
        (kind === "conflict" ? "; conflict zone" : ""));
    });
    var mapEl = document.getElementById("map");
    mapEl.setAttribute("data-day", String(day));
    mapEl.setAttribute("aria-label", "Map of " + longDate(date) + ", day " + (day + 1) + " of " + sim.days +
      ": circles are people per place, lines people setting out per route; the largest movements are in the table below");
    slider.value = String(position);
    slider.setAttribute("aria-valuetext", longDate(date) + ", day " + (day + 1) + " of " + sim.days);
    dayLabel.textContent = "Day " + (day + 1) + " of " + sim.days + " · " + longDate(date);
    fillFlowsTable(position);
  }

  function fillFlowsTable(position) {
    var sim = state.sim;
    var row = sim.flows[position];
    var order = row.map(function (v, i) { return i; }).filter(function (i) { return row[i] >= 0.5; });
    order.sort(function (x, y) { return row[y] - row[x] || x - y; });
    var tbody = document.querySelector("#flows-table tbody");
    tbody.textContent = "";
    order.slice(0, TOP_FLOWS).forEach(function (i) {
      var r = sim.routes[i];
      var tr = el("tr", { "data-route": r.source + ">" + r.target });
      tr.appendChild(el("th", { scope: "row" }, locName(r.source) + " (" + r.source + ")"));
      tr.appendChild(el("td", {}, locName(r.target) + " (" + r.target + ")"));
      tr.appendChild(el("td", { "class": "num" }, fmt.format(row[i])));
      tr.appendChild(el("td", { "class": "num" }, fmt.format(r.distance_km)));
      tbody.appendChild(tr);
    });
    if (!order.length) {
      var empty = el("tr", { "class": "none" });
      empty.appendChild(el("td", { colspan: "4" }, "Nobody sets out on any route this day."));
      tbody.appendChild(empty);
    }
    document.getElementById("flows-caption").textContent = "Largest movements on " + longDate(sim.dates[position]) +
      ": people setting out on each route (" + Math.min(order.length, TOP_FLOWS) + " of " + order.length + " routes used)";
  }

  // --- the camps chart -----------------------------------------------------------------------------------

  function topCamps(sim) {
    var most = {};
    var camps = [];
    sim.locations.forEach(function (loc, i) {
      if (loc.kind !== "camp" && loc.kind !== "idpcamp") { return; }
      camps.push(i);
      most[i] = 0;
      sim.people.forEach(function (d) { if (d[i] > most[i]) { most[i] = d[i]; } });
    });
    camps.sort(function (x, y) { return most[y] - most[x] || x - y; });
    return camps.slice(0, TOP_CAMPS);
  }

  function drawChart() {
    var sim = state.sim;
    var container = document.getElementById("camps-chart");
    var camps = topCamps(sim);
    var xs = sim.dates.map(function (d) { return OTM.parseDate(d).getTime() / 1000; });
    var value = OTM.chartValue(fmt.format);
    var series = [];
    var data = [xs];
    camps.forEach(function (i, k) {
      series.push({ label: campLabel(sim.locations[i]), stroke: LINE_COLOURS[k % LINE_COLOURS.length], width: 2, value: value });
      data.push(sim.people.map(function (d) { return d[i]; }));
    });
    state.chart = OTM.lineChart(container, state.chart, {
      data: data,
      height: 320,
      yLabel: "People",
      yFormat: fmt.format,
      yRange: function (u, min, max) { return [0, max * 1.05 || 1]; },
      x: { label: "Date", value: "{D} {MMM} {YYYY}" },
      series: series
    });
    container.setAttribute("data-camps", camps.map(function (i) { return sim.locations[i].id; }).join(" "));
    container.setAttribute("aria-label", "Chart of the simulated people in the " + camps.length + " camps that receive " +
      "most, from " + longDate(sim.dates[0]) + " to " + longDate(sim.dates[sim.dates.length - 1]) +
      "; the figures are in the table below the chart");
    fillCampsTable(camps);
  }

  function fillCampsTable(camps) {
    var sim = state.sim;
    var head = document.querySelector("#camps-table thead tr");
    head.textContent = "";
    head.appendChild(el("th", { scope: "col" }, "Date"));
    camps.forEach(function (i) { head.appendChild(el("th", { scope: "col", "class": "num" }, campLabel(sim.locations[i]))); });
    head.appendChild(el("th", { scope: "col", "class": "num" }, "All camps"));
    var tbody = document.querySelector("#camps-table tbody");
    tbody.textContent = "";
    sim.dates.forEach(function (date, d) {
      var tr = el("tr", { "data-day": String(sim.day_numbers[d]) });
      tr.appendChild(el("th", { scope: "row" }, longDate(date)));
      camps.forEach(function (i) { tr.appendChild(el("td", { "class": "num" }, fmt.format(sim.people[d][i]))); });
      tr.appendChild(el("td", { "class": "num" }, fmt.format(sim.in_camps[d])));
      tbody.appendChild(tr);
    });
  }

  function resizeChart() {
    OTM.resizeChart(state.chart, document.getElementById("camps-chart"), 320);
  }

  // --- running ---------------------------------------------------------------------------------------------

  function summarise(sim) {
    var last = sim.day_numbers.length - 1;
    var origins = sim.parameters.origins.map(function (o) { return locName(o.location); });
    var text = "Simulated " + sim.days + " days from " + longDate(sim.start) + " in " + sim.seconds.toFixed(2) + " s: " +
      fmt.format(sim.displaced[last]) + " people newly displaced, " + fmt.format(sim.in_camps[last]) + " in camps and " +
      fmt.format(sim.in_transit[last]) + " on the move on " + longDate(sim.dates[last]) + ". Conflict zones from the first day: " +
      (origins.length ? origins.slice(0, 4).join(", ") + (origins.length > 4 ? " and " + (origins.length - 4) + " more" : "") : "none") +
      " (" + fmt.format(sim.parameters.displaced_per_conflict_day) + " people a day at intensity 1)." +
      (sim.scenario ? " Scenario: " + sim.scenario_events + " changes." : "");
    if (sim.warnings.length) { text += " " + sim.warnings.join(" "); }
    return text;
  }

  function stopPlaying() {
    if (state.timer !== null) { window.clearInterval(state.timer); state.timer = null; }
    playButton.textContent = "Play";
    playButton.setAttribute("aria-pressed", "false");
  }

  function run() {
    var ticket = ++state.ticket;
    stopPlaying();
    OTM.notReady();
    form.setAttribute("aria-busy", "true");
    setStatus("Simulating…");
    var body = { days: +daysSelect.value, mode: modeSelect.value, country: state.graph.country, admin_level: state.graph.admin_level };
    var scenario = scenarioBody();
    if (scenario) { body.scenario = scenario; }
    return OTM.request("POST", "/simulations", [], body).then(function (sim) {
      if (ticket !== state.ticket) { return; }
      var previousDay = state.sim && state.position !== null ? state.sim.day_numbers[state.position] : null;
      state.sim = sim;
      state.pairs = buildPairs(sim.routes);
      state.maxFlow = 0;
      state.maxPeople = 0;
      state.pairFlows = sim.flows.map(function (row) {
        return state.pairs.map(function (p) {
          var v = (p.forward >= 0 ? row[p.forward] : 0) + (p.backward >= 0 ? row[p.backward] : 0);
          if (v > state.maxFlow) { state.maxFlow = v; }
          return v;
        });
      });
      sim.people.forEach(function (row) { row.forEach(function (v) { if (v > state.maxPeople) { state.maxPeople = v; } }); });
      slider.max = String(sim.day_numbers.length - 1);
      slider.disabled = false;
      playButton.disabled = false;
      var position = sim.day_numbers.length - 1;
      if (previousDay !== null) {
        var same = sim.day_numbers.indexOf(previousDay);
        if (same >= 0) { position = same; }
      }
      renderLegend();
      showDay(position);
      drawChart();
      setDateLimits();
      setStatus(summarise(sim));
    }, function (error) {
      if (ticket !== state.ticket) { return; }
      if (error.status === 403) {
        setStatus("Running a simulation needs an analyst (or higher) login, because it uses unredacted site " +
          "populations: log in on the Data page, then come back. (" + error.detail + ")", true);
        var link = el("a", { href: document.querySelector(".site-nav a[href$='/data']").getAttribute("href") }, "Log in");
        var status = document.getElementById("status");
        status.appendChild(document.createTextNode(" "));
        status.appendChild(link);
      } else {
        setStatus("Could not run the simulation: " + error.message, true);
      }
    }).then(function () {
      if (ticket === state.ticket) {
        form.removeAttribute("aria-busy");
        OTM.ready();
      }
    });
  }

  function togglePlay() {
    if (state.timer !== null) { stopPlaying(); return; }
    if (!state.sim) { return; }
    var last = state.sim.day_numbers.length - 1;
    if (state.position >= last) { showDay(0); }
    playButton.textContent = "Pause";
    playButton.setAttribute("aria-pressed", "true");
    state.timer = window.setInterval(function () {
      if (state.position >= last) { stopPlaying(); return; }
      showDay(state.position + 1);
    }, PLAY_MS);
  }

  function start() {
    ensureMap();
    OTM.getJSON("/simulation/graph").then(function (graph) {
      state.graph = graph;
      state.index = {};
      graph.locations.forEach(function (loc, i) { state.index[loc.id] = i; });
      return OTM.boundaries(graph.admin_level).then(drawAreas, function () { /* the graph is drawn without boundaries */ }).then(function () {
        drawGraph();
        fillScenarioControls();
        setDateLimits();
        return run();
      });
    }, function (error) {
      setStatus("Could not read the location graph: " + error.message, true);
      OTM.ready();
    });
    slider.addEventListener("input", function () { stopPlaying(); showDay(+slider.value); });
    playButton.addEventListener("click", togglePlay);
    document.getElementById("close-from").addEventListener("change", fillNeighbours);
    document.getElementById("capacity-camp").addEventListener("change", fillCapacity);
    document.getElementById("add-closure").addEventListener("click", addClosure);
    document.getElementById("add-flare").addEventListener("click", addFlare);
    document.getElementById("add-capacity").addEventListener("click", addCapacity);
    document.getElementById("clear").addEventListener("click", function () {
      state.changes = { closures: [], conflicts: [], capacities: [] };
      renderChanges();
      run();
    });
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      run();
    });
    [daysSelect, modeSelect].forEach(function (select) { select.addEventListener("change", function () { if (state.graph) { run(); } }); });
    window.addEventListener("resize", resizeChart);
  }

  start();
})();
