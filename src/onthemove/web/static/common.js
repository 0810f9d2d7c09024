/* What the dashboard's page scripts share, written once: requests to /api/v1, building the page, months and numbers,
   legends, the base map, line charts, sortable tables and CSV downloads. base.html loads it before every page's
   script; it defines one global, OTM, and does nothing by itself. Leaflet (L) and uPlot are only used by the map and
   chart helpers, on the pages that load them. Every request goes to this server; nothing is fetched from elsewhere. */
(function () {
  "use strict";

  var API = document.body.getAttribute("data-api-base") || "/api/v1";
  var SVG_NS = "http://www.w3.org/2000/svg";

  // --- numbers and dates ---------------------------------------------------------------------

  var formats = {
    number: new Intl.NumberFormat("en"), // as it is (up to three decimals): counts
    whole: new Intl.NumberFormat("en", { maximumFractionDigits: 0 }),
    oneDecimal: new Intl.NumberFormat("en", { minimumFractionDigits: 1, maximumFractionDigits: 1 }),
    twoDecimals: new Intl.NumberFormat("en", { minimumFractionDigits: 2, maximumFractionDigits: 2 }),
    upToTwoDecimals: new Intl.NumberFormat("en", { maximumFractionDigits: 2 }),
    month: new Intl.DateTimeFormat("en", { month: "long", year: "numeric", timeZone: "UTC" }),
    shortMonth: new Intl.DateTimeFormat("en", { month: "short", year: "numeric", timeZone: "UTC" }),
    longDate: new Intl.DateTimeFormat("en-GB", { day: "numeric", month: "long", year: "numeric", timeZone: "UTC" }),
    shortDate: new Intl.DateTimeFormat("en-GB", { day: "numeric", month: "short", year: "numeric", timeZone: "UTC" })
  };

  // a count, or "redacted" where the server withheld it (null)
  function formatCount(value) {
    return value === null || value === undefined ? "redacted" : formats.number.format(value);
  }

  // "2024-03" -> the first of that month, UTC
  function monthDate(month) {
    var parts = month.split("-");
    return new Date(Date.UTC(+parts[0], +parts[1] - 1, 1));
  }
  function monthLabel(month) { return formats.month.format(monthDate(month)); } // "March 2024"
  function shortMonth(month) { return formats.shortMonth.format(monthDate(month)); } // "Mar 2024"
  function monthSeconds(month) { return monthDate(month).getTime() / 1000; } // a chart's x value

  // "2024-02" -> ["2024-02-01", "2024-02-29"]: the month's first and last day, for the API's from and to
  function monthRange(month) {
    var parts = month.split("-");
    var last = new Date(Date.UTC(+parts[0], +parts[1], 0)).getUTCDate();
    return [month + "-01", month + "-" + String(last).padStart(2, "0")];
  }

  // "2024-03-05" -> that day, UTC
  function parseDate(iso) {
    var parts = iso.split("-");
    return new Date(Date.UTC(+parts[0], +parts[1] - 1, +parts[2]));
  }
  function longDate(iso) { return formats.longDate.format(parseDate(iso)); } // "5 March 2024"
  function shortDate(iso) { return iso ? formats.shortDate.format(parseDate(iso)) : "–"; } // "5 Mar 2024"

  // --- requests ------------------------------------------------------------------------------

  // [[name, value], ...] -> "?name=value&..."; empty values (null, undefined, "") are left out
  function query(params) {
    var q = new URLSearchParams();
    (params || []).forEach(function (pair) {
      if (pair[1] !== null && pair[1] !== undefined && pair[1] !== "") { q.append(pair[0], String(pair[1])); }
    });
    var text = q.toString();
    return text ? "?" + text : "";
  }

  /* A JSON request to API + path (params as for query; body, if any, sent as JSON). It resolves to the answer's
     JSON; an answer that is not OK rejects with an Error whose message is the API's error.message (or the start of
     the answer when it is not the API's error body) and the status, e.g. "too little history (422)"; the error also
     has .status, .detail (the message alone) and .url. */
  function request(method, path, params, body) {
    var init = { method: method, headers: { Accept: "application/json" }, credentials: "same-origin" };
    if (body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    var url = API + path + query(params);
    return fetch(url, init).then(function (response) {
      if (response.ok) { return response.json(); }
      return response.text().then(function (text) {
        var detail = text.slice(0, 200);
        try { detail = JSON.parse(text).error.message || detail; } catch (ignored) { /* not the API's error body */ }
        var error = new Error(detail + " (" + response.status + ")");
        error.status = response.status;
        error.detail = detail;
        error.url = url;
        throw error;
      });
    });
  }

  function getJSON(path, params) { return request("GET", path, params); }

  // what to show of a failure: its message, or the thing itself
  function errorText(error) {
    return error && error.message ? error.message : String(error);
  }

  // --- the page ------------------------------------------------------------------------------

  // an element with attributes and, unless text is null or undefined, its text
  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (key) { node.setAttribute(key, attrs[key]); });
    if (text !== undefined && text !== null) { node.textContent = text; }
    return node;
  }

  // the same in SVG, appended to parent when one is given
  function svg(tag, attrs, text, parent) {
    var node = document.createElementNS(SVG_NS, tag);
    Object.keys(attrs || {}).forEach(function (key) { node.setAttribute(key, attrs[key]); });
    if (text !== undefined && text !== null) { node.textContent = text; }
    if (parent) { parent.appendChild(node); }
    return node;
  }

  // a cell appended to a table row: a td, or (tag "th") a row header
  function cell(row, text, className, tag) {
    var node = el(tag || "td", className ? { "class": className } : {}, text);
    if (tag === "th") { node.setAttribute("scope", "row"); }
    row.appendChild(node);
    return node;
  }

  /* Rows of plain cells into a table's body (the tbody or the table's id), in place of those there unless append:
     cells(row) gives a [text, isNumber] pair per cell. */
  function fillTable(body, rows, cells, append) {
    if (typeof body === "string") { body = document.querySelector("#" + body + " tbody"); }
    if (!append) { body.textContent = ""; }
    rows.forEach(function (row) {
      var tr = el("tr");
      cells(row).forEach(function (c) { cell(tr, c[0], c[1] ? "num" : ""); });
      body.appendChild(tr);
    });
    return body;
  }

  // the page's status line (#status); an error is marked as one
  function setStatus(text, isError) {
    var status = document.getElementById("status");
    status.textContent = text;
    status.classList.toggle("error", !!isError);
  }

  // data-ready on the body: the page is drawn for the latest choice (what the tests and screenshots wait for)
  function ready() { document.body.setAttribute("data-ready", "true"); }
  function notReady() { document.body.removeAttribute("data-ready"); }

  // --- legends -------------------------------------------------------------------------------

  // a colour swatch, hidden from screen readers (the label says it)
  function swatch(colour, className) {
    var node = el("span", { "class": className || "swatch", "aria-hidden": "true" });
    node.style.background = colour;
    return node;
  }

  // a legend entry: a swatch (or a colour for a plain one) and its label
  function legendItem(mark, label) {
    var item = el("li", { "class": "legend-item" });
    if (typeof mark === "string") { mark = swatch(mark); }
    mark.setAttribute("aria-hidden", "true");
    item.appendChild(mark);
    item.appendChild(document.createTextNode(label));
    return item;
  }

  // a legend list (or its id) filled anew with [colour or swatch, label] entries; className for the colours' swatches
  function fillLegend(list, entries, className) {
    if (typeof list === "string") { list = document.getElementById(list); }
    list.textContent = "";
    entries.forEach(function (entry) {
      var mark = typeof entry[0] === "string" ? swatch(entry[0], className) : entry[0];
      list.appendChild(legendItem(mark, entry[1]));
    });
    return list;
  }

  // --- the base map --------------------------------------------------------------------------

  // A Leaflet map in the element with this id: SVG, no tiles and no attribution (the boundaries are the base map).
  function baseMap(id, maxZoom) {
    return L.map(id, {
      renderer: L.svg(), attributionControl: false, zoomSnap: 0.25, minZoom: 3, maxZoom: maxZoom || 12
    });
  }

  var boundaryCache = {};

  // The boundaries of one admin level as GeoJSON, the areas without a shape left out; asked for once per page.
  function boundaries(level) {
    if (boundaryCache[level]) { return Promise.resolve(boundaryCache[level]); }
    return getJSON("/places", [["level", level], ["geometry", "true"]]).then(function (collection) {
      collection.features = collection.features.filter(function (f) { return f.geometry; });
      boundaryCache[level] = collection;
      return collection;
    });
  }

  // The regions (admin level 1, with their shapes) and the names of every region and district by P-code.
  function regionsAndNames() {
    var regions = getJSON("/places", [["level", 1], ["geometry", "true"]]);
    var districts = getJSON("/places", [["level", 2], ["geometry", "false"]]);
    return Promise.all([regions, districts]).then(function (results) {
      var names = Object.create(null);
      results.forEach(function (collection) {
        collection.features.forEach(function (f) { names[f.properties.pcode] = f.properties.name; });
      });
      var shaped = results[0].features.filter(function (f) { return f.geometry; });
      return { regions: { type: "FeatureCollection", features: shaped }, names: names };
    });
  }

  // The areas as a layer in this style; each area's path gets data-pcode once on the map (the SVG path exists only
  // once the map has a view and the layer is on it). With onClick (called with the P-code) the areas answer the
  // pointer; without, they are only the background.
  function areaLayer(collection, style, onClick) {
    return L.geoJSON(collection, {
      interactive: !!onClick,
      style: function () { return Object.assign({}, style); },
      onEachFeature: function (feature, layer) {
        layer.on("add", function () { layer.getElement().setAttribute("data-pcode", feature.properties.pcode); });
        if (onClick) { layer.on("click", function () { onClick(feature.properties.pcode); }); }
      }
    });
  }

  // The areas drawn on the map in place of the previous layer, the map fitted to them; gives the new layer.
  function showAreas(map, previous, collection, style, onClick) {
    if (previous) { map.removeLayer(previous); }
    var layer = areaLayer(collection, style, onClick);
    if (collection.features.length) {
      map.fitBounds(layer.getBounds(), { padding: [8, 8] });
    } else {
      map.setView([0, 0], 3);
    }
    layer.addTo(map);
    return layer;
  }

  // --- line charts ---------------------------------------------------------------------------

  // a chart's legend value: "–" for a gap, else the number formatted
  function chartValue(format) {
    return function (u, v) { return v === null || v === undefined ? "–" : format(v); };
  }

  /* A uPlot line chart over time (x in seconds, UTC) in container, in place of the previous chart; gives the new one.
     spec: data, series (after the x one), height, yLabel, yFormat (a tick's text), and optionally ySize (70),
     yRange, bands and x (the x series: by default months). */
  function lineChart(container, previous, spec) {
    var options = {
      width: Math.max(container.clientWidth, 300),
      height: spec.height,
      tzDate: function (ts) { return uPlot.tzDate(new Date(ts * 1000), "Etc/UTC"); },
      scales: { x: { time: true } },
      axes: [
        { stroke: "#1a1a1a", grid: { stroke: "#e3e3e3" }, space: 60 },
        { stroke: "#1a1a1a", grid: { stroke: "#e3e3e3" }, size: spec.ySize || 70, label: spec.yLabel,
          values: function (u, ticks) { return ticks.map(function (t) { return spec.yFormat(t); }); } }
      ],
      series: [spec.x || { label: "Month", value: "{MMM} {YYYY}" }].concat(spec.series)
    };
    if (spec.yRange) { options.scales.y = { range: spec.yRange }; }
    if (spec.bands) { options.bands = spec.bands; }
    if (previous) { previous.destroy(); }
    container.textContent = "";
    return new uPlot(options, spec.data, container);
  }

  // the chart to its container's width again (after the window was resized)
  function resizeChart(chart, container, height) {
    if (chart) { chart.setSize({ width: Math.max(container.clientWidth, 300), height: height }); }
  }

  // --- sortable tables -----------------------------------------------------------------------

  var collator = new Intl.Collator("en", { numeric: true, sensitivity: "base" });

  function isEmpty(v) { return v === null || v === undefined || v === ""; }

  // numbers by value, text by the collator (numbers in text by value, case and accents aside)
  function compare(a, b, type) {
    return type === "num" ? a - b : collator.compare(String(a), String(b));
  }

  function columnFor(columns, key) {
    return columns.filter(function (c) { return c.key === key; })[0];
  }

  /* The header row of a sortable table: a button per column ({key, label, type}) that calls onSort(key); the sorted
     column carries aria-sort. */
  function sortHead(row, columns, sort, onSort) {
    row.textContent = "";
    columns.forEach(function (col) {
      var th = el("th", { scope: "col", "data-key": col.key });
      if (col.type === "num") { th.className = "num"; }
      var button = el("button", { type: "button", "class": "sort", "data-sort": col.key });
      button.appendChild(el("span", {}, col.label));
      button.appendChild(el("span", { "class": "sort-icon", "aria-hidden": "true" }));
      button.addEventListener("click", function () { onSort(col.key); });
      th.appendChild(button);
      row.appendChild(th);
    });
    markSorted(row, sort);
  }

  // aria-sort and the arrow on the sorted column's header; the others sortable both ways
  function markSorted(row, sort) {
    Array.prototype.forEach.call(row.children, function (th) {
      var icon = th.querySelector(".sort-icon");
      if (th.getAttribute("data-key") === sort.key) {
        th.setAttribute("aria-sort", sort.dir);
        icon.textContent = sort.dir === "ascending" ? "▲" : "▼";
      } else {
        th.removeAttribute("aria-sort");
        icon.textContent = "↕";
      }
    });
  }

  // the sort after a click on key's header: the same column the other way, another one in its first direction
  function nextSort(sort, key, firstDir) {
    if (sort.key === key) { return { key: key, dir: sort.dir === "ascending" ? "descending" : "ascending" }; }
    return { key: key, dir: firstDir };
  }

  // rows in the column's order and direction, empty values last whatever the direction; ties by tie(a, b)
  function sortRows(rows, column, dir, tie) {
    var sign = dir === "ascending" ? 1 : -1;
    return rows.map(function (row) { return { row: row, value: column.value(row) }; }).sort(function (x, y) {
      if (isEmpty(x.value) !== isEmpty(y.value)) { return isEmpty(x.value) ? 1 : -1; }
      var c = isEmpty(x.value) ? 0 : sign * compare(x.value, y.value, column.type);
      return c || tie(x.row, y.row);
    }).map(function (k) { return k.row; });
  }

  // --- CSV downloads -------------------------------------------------------------------------

  function csvCell(value) {
    if (value === null || value === undefined) { return ""; }
    var text = String(value);
    return /[",\n\r]/.test(text) ? "\"" + text.replace(/"/g, "\"\"") + "\"" : text;
  }

  // The link downloads these rows (arrays of values, under the header) as a CSV file made in the browser.
  function csvDownload(link, header, rows, filename) {
    var lines = [header].concat(rows).map(function (values) { return values.map(csvCell).join(","); });
    var previous = link.getAttribute("href");
    if (previous && previous.indexOf("blob:") === 0) { URL.revokeObjectURL(previous); }
    link.href = URL.createObjectURL(new Blob([lines.join("\r\n") + "\r\n"], { type: "text/csv" }));
    link.setAttribute("download", filename.replace(/[^A-Za-z0-9._-]+/g, "_"));
  }

  window.OTM = {
    API: API,
    formats: formats,
    formatCount: formatCount,
    monthDate: monthDate,
    monthLabel: monthLabel,
    shortMonth: shortMonth,
    monthSeconds: monthSeconds,
    monthRange: monthRange,
    parseDate: parseDate,
    longDate: longDate,
    shortDate: shortDate,
    query: query,
    request: request,
    getJSON: getJSON,
    errorText: errorText,
    el: el,
    svg: svg,
    cell: cell,
    fillTable: fillTable,
    setStatus: setStatus,
    ready: ready,
    notReady: notReady,
    swatch: swatch,
    legendItem: legendItem,
    fillLegend: fillLegend,
    baseMap: baseMap,
    boundaries: boundaries,
    regionsAndNames: regionsAndNames,
    areaLayer: areaLayer,
    showAreas: showAreas,
    chartValue: chartValue,
    lineChart: lineChart,
    resizeChart: resizeChart,
    isEmpty: isEmpty,
    compare: compare,
    columnFor: columnFor,
    sortHead: sortHead,
    markSorted: markSorted,
    nextSort: nextSort,
    sortRows: sortRows,
    csvDownload: csvDownload
  };
})();
