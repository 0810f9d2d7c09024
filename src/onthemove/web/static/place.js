/* The place page: one admin area with its ancestors and the areas inside it, monthly arrivals by reason and
   people displaced (uPlot, each with its numbers as a table), who arrived in the latest month (sex, age,
   population group) and the sites inside it. Everything comes from /api/v1 on this server, so the page shows
   exactly what the API gives the same user (small counts redacted for anonymous users and partners). */
(function () {
  "use strict";

  var root = document.getElementById("place");
  var PCODE = root.getAttribute("data-pcode");
  var PLACE_URL = root.getAttribute("data-place-url");
  var SITES_URL = root.getAttribute("data-sites-url");

  // Okabe–Ito hues darkened to at least 3:1 against white (lines are graphics), with dashes so that lines
  // differ without colour too.
  var SERIES_COLOURS = ["#0072B2", "#B85000", "#007A5A", "#8E4585", "#000000", "#8C6D00", "#4A4A4A", "#D55E00"];
  var SERIES_DASH = [[], [8, 4], [2, 3], [12, 4, 2, 4], [], [8, 4], [2, 3], []];
  var LEVEL_NAMES = ["country", "region", "district", "sub-district"];
  var SEX_LABELS = { f: "female", m: "male", other: "other", "(not stated)": "not stated" };
  var GROUP_LABELS = {
    idps: "internally displaced people", returnees: "returnees", refugees: "refugees",
    asylum_seekers: "asylum seekers", migrants: "migrants", host: "host community", stateless: "stateless",
    other: "other"
  };
  var DIMENSION_LABELS = { sex: "Sex", age_group: "Age group", population_group: "Population group" };

  var fmt = OTM.formats.number;
  var el = OTM.el;
  var cell = OTM.cell;
  var monthLabel = OTM.monthLabel;
  var charts = {}; // id -> uPlot

  // --- helpers -------------------------------------------------------------------------------

  function NotFound(message) { this.message = message; }

  // the place itself: a 404 means "no such place" (elsewhere a 404 is an error)
  function getPlace(path, params) {
    return OTM.getJSON(path, params).catch(function (error) {
      throw error.status === 404 ? new NotFound(error.url) : error;
    });
  }

  function totals(kind, by, extra) {
    var params = by.map(function (b) { return ["by", b]; });
    params.push(["place", PCODE], ["limit", "10000"]);
    return OTM.getJSON("/totals/" + kind, params.concat(extra || [])).then(function (body) { return body.rows; });
  }

  function countCell(row, value) {
    var td = cell(row, OTM.formatCount(value), value === null ? "num redacted" : "num");
    td.setAttribute("data-count", value === null || value === undefined ? "" : String(value));
    return td;
  }

  function placeUrl(pcode) { return PLACE_URL.replace("__PCODE__", encodeURIComponent(pcode)); }

  function placeLink(pcode, name) {
    return el("a", { href: placeUrl(pcode) }, name);
  }

  // the API's from and to for a month
  function monthRange(month) {
    var range = OTM.monthRange(month);
    return [["from", range[0]], ["to", range[1]]];
  }

  function levelName(level) {
    return "admin level " + level + (LEVEL_NAMES[level] ? " (" + LEVEL_NAMES[level] + ")" : "");
  }

  function latestMonth(rows) {
    return rows.reduce(function (latest, r) { return r.month && (!latest || r.month > latest) ? r.month : latest; }, null);
  }

  function setText(id, text) { document.getElementById(id).textContent = text; }

  // --- the place: heading, breadcrumb, facts --------------------------------------------------

  function renderPlace(feature) {
    var p = feature.properties;
    var heading = document.querySelector(".site-header h1");
    heading.textContent = p.name;
    document.title = p.name + " (" + p.pcode + ") · onthemove";
    var crumbs = document.getElementById("breadcrumb");
    crumbs.textContent = "";
    p.ancestors.forEach(function (a) {
      var item = el("li", { "data-pcode": a.pcode });
      item.appendChild(placeLink(a.pcode, a.name));
      crumbs.appendChild(item);
    });
    var here = el("li", { "data-pcode": p.pcode });
    here.appendChild(el("span", { "aria-current": "page" }, p.name));
    crumbs.appendChild(here);
    setText("place-pcode", p.pcode);
    setText("place-level", levelName(p.admin_level));
    var parent = document.getElementById("place-parent");
    parent.textContent = "";
    var direct = p.ancestors.filter(function (a) { return a.pcode === p.parent_pcode; })[0];
    if (direct) {
      parent.appendChild(placeLink(direct.pcode, direct.name));
    } else {
      parent.textContent = p.parent_pcode ? p.parent_pcode : "– (the top level)";
    }
    setText("children-title", p.admin_level < 3 ? "Areas inside " + p.name : "Areas inside this place");
    setText("sites-title", "Sites in " + p.name);
    document.getElementById("sites-link").setAttribute(
      "href", SITES_URL + "?" + new URLSearchParams([["place", p.pcode]]).toString()
    );
    document.getElementById("not-found").hidden = true;
    document.getElementById("place-content").hidden = false;
  }

  function showNotFound() {
    document.getElementById("place-content").hidden = true;
    document.getElementById("not-found").hidden = false;
    document.querySelector(".site-header h1").textContent = "Unknown place " + PCODE;
    document.title = "Unknown place · onthemove";
    OTM.setStatus("No place with P-code " + PCODE + " was found.", true);
  }

  // --- children --------------------------------------------------------------------------------

  function renderChildren(place, children, counts, month) {
    var body = document.querySelector("#children tbody");
    body.textContent = "";
    var table = document.getElementById("children");
    document.getElementById("children-empty").hidden = children.length > 0;
    table.hidden = children.length === 0;
    setText("children-month", month ? monthLabel(month) : "the latest month");
    var key = "adm" + (place.admin_level + 1);
    var byCode = {};
    (counts || []).forEach(function (r) { byCode[r[key]] = r.count; });
    children.forEach(function (child) {
      var props = child.properties;
      var tr = el("tr", { "data-pcode": props.pcode });
      var th = cell(tr, null, null, "th");
      th.appendChild(placeLink(props.pcode, props.name));
      cell(tr, props.pcode);
      if (Object.prototype.hasOwnProperty.call(byCode, props.pcode)) {
        countCell(tr, byCode[props.pcode]);
      } else {
        var td = cell(tr, month ? "none recorded" : "–", "num none");
        td.setAttribute("data-count", month ? "0" : "");
      }
      body.appendChild(tr);
    });
  }

  // --- charts ----------------------------------------------------------------------------------

  function drawChart(id, months, series, yLabel) {
    charts[id] = OTM.lineChart(document.getElementById(id), charts[id], {
      data: [months.map(OTM.monthSeconds)].concat(series.map(function (s) { return s.values; })),
      height: 280,
      yLabel: yLabel,
      yFormat: fmt.format,
      series: series.map(function (s, i) {
        return {
          label: s.label,
          stroke: SERIES_COLOURS[i % SERIES_COLOURS.length],
          dash: SERIES_DASH[i % SERIES_DASH.length],
          width: 2,
          value: OTM.chartValue(fmt.format)
        };
      })
    });
  }

  function resizeCharts() {
    Object.keys(charts).forEach(function (id) { OTM.resizeChart(charts[id], document.getElementById(id), 280); });
  }

  function renderArrivals(byReason, byMonth) {
    var months = byMonth.map(function (r) { return r.month; }).filter(Boolean).sort();
    var reasons = [];
    var values = {};
    byReason.forEach(function (row) {
      var reason = row.reason === null || row.reason === undefined ? "(not stated)" : row.reason;
      if (reasons.indexOf(reason) < 0) { reasons.push(reason); }
      if (months.indexOf(row.month) < 0) { months.push(row.month); }
      values[row.month + "|" + reason] = row.count;
    });
    months.sort();
    reasons.sort();
    var totalsByMonth = {};
    byMonth.forEach(function (r) { totalsByMonth[r.month] = r.count; });
    var empty = months.length === 0;
    document.getElementById("arrivals-empty").hidden = !empty;
    document.querySelector("#arrivals-chart").parentNode.hidden = empty;
    document.getElementById("arrivals-details").hidden = empty;
    if (empty) { return; }
    // no row: no arrivals for that reason that month; a null count: redacted (a gap in the line)
    drawChart("arrivals-chart", months, reasons.map(function (reason) {
      return {
        label: reason,
        values: months.map(function (m) {
          var v = values[m + "|" + reason];
          return v === undefined ? 0 : v;
        })
      };
    }), "Arrivals");

    var head = document.querySelector("#arrivals-table thead");
    head.textContent = "";
    var hr = el("tr");
    hr.appendChild(el("th", { scope: "col" }, "Month"));
    reasons.forEach(function (reason) { hr.appendChild(el("th", { scope: "col", "class": "num" }, reason)); });
    hr.appendChild(el("th", { scope: "col", "class": "num" }, "All reasons"));
    head.appendChild(hr);
    var body = document.querySelector("#arrivals-table tbody");
    body.textContent = "";
    months.slice().reverse().forEach(function (m) {
      var tr = el("tr", { "data-month": m });
      cell(tr, monthLabel(m), null, "th");
      reasons.forEach(function (reason) {
        var v = values[m + "|" + reason];
        countCell(tr, v === undefined ? 0 : v);
      });
      countCell(tr, Object.prototype.hasOwnProperty.call(totalsByMonth, m) ? totalsByMonth[m] : 0);
      body.appendChild(tr);
    });
  }

  function renderDisplacement(rows) {
    var months = rows.map(function (r) { return r.month; }).filter(Boolean).sort();
    var panel = document.getElementById("displacement-panel");
    panel.hidden = months.length === 0;
    if (!months.length) { return; }
    var byMonth = {};
    rows.forEach(function (r) { byMonth[r.month] = r.count; });
    drawChart("displacement-chart", months, [{
      label: "People displaced",
      values: months.map(function (m) { return byMonth[m]; })
    }], "People");
    var body = document.querySelector("#displacement-table tbody");
    body.textContent = "";
    months.slice().reverse().forEach(function (m) {
      var tr = el("tr", { "data-month": m });
      cell(tr, monthLabel(m), null, "th");
      countCell(tr, byMonth[m]);
      body.appendChild(tr);
    });
  }

  function renderHeadline(valueId, monthId, rows, month) {
    if (!month) {
      setText(valueId, "none recorded");
      return;
    }
    var row = rows.filter(function (r) { return r.month === month; })[0];
    setText(monthId, monthLabel(month));
    var value = document.getElementById(valueId);
    value.textContent = OTM.formatCount(row ? row.count : 0);
    value.setAttribute("data-count", row && row.count !== null ? String(row.count) : "");
  }

  // --- who: sex, age and population group -------------------------------------------------------

  function label(dimension, value) {
    if (dimension === "sex") { return SEX_LABELS[value] || value; }
    if (dimension === "population_group") { return GROUP_LABELS[value] || value; }
    return value;
  }

  function breakdownTable(kind, dimensions, rows, caption) {
    var table = el("table", { "class": "breakdown-table", "data-dimensions": dimensions.join(",") });
    table.appendChild(el("caption", {}, caption));
    var head = el("thead");
    var hr = el("tr");
    dimensions.forEach(function (d) { hr.appendChild(el("th", { scope: "col" }, DIMENSION_LABELS[d])); });
    hr.appendChild(el("th", { scope: "col", "class": "num" }, kind === "movements" ? "Arrivals" : "People"));
    hr.appendChild(el("th", { scope: "col", "class": "share" }, "Share"));
    head.appendChild(hr);
    table.appendChild(head);
    var known = rows.every(function (r) { return r.count !== null; });
    var sum = rows.reduce(function (s, r) { return s + (r.count || 0); }, 0);
    var body = el("tbody");
    rows.forEach(function (r) {
      var key = dimensions.map(function (d) { return r[d]; }).join("|");
      var tr = el("tr", { "data-key": key });
      dimensions.forEach(function (d, i) { cell(tr, label(d, r[d]), null, i === 0 ? "th" : "td"); });
      countCell(tr, r.count);
      var share = cell(tr, null, "share");
      if (known && sum > 0) {
        var fraction = r.count / sum;
        var bar = el("span", { "class": "bar", "aria-hidden": "true" });
        bar.style.width = (fraction * 60).toFixed(1) + "%"; // the longest bar leaves room for the text
        share.appendChild(bar);
        share.appendChild(el("span", { "class": "share-text" }, OTM.formats.oneDecimal.format(fraction * 100) + "%"));
      } else {
        share.appendChild(el("span", { "class": "share-text" }, "–"));
        share.setAttribute("title", "no share: a count is redacted");
      }
      body.appendChild(tr);
    });
    table.appendChild(body);
    return table;
  }

  function renderBreakdown(kind, month, parts) {
    var box = document.getElementById("breakdown-" + kind);
    box.hidden = false;
    box.setAttribute("data-month", month || "");
    box.querySelector(".breakdown-month").textContent = month ? monthLabel(month) : "no month recorded";
    var tables = box.querySelector(".breakdown-tables");
    tables.textContent = "";
    var when = month ? " in " + monthLabel(month) : "";
    var what = kind === "movements" ? "Arrivals" : "People displaced";
    if (!month) {
      tables.appendChild(el("p", { "class": "note" }, "Nothing recorded."));
      return;
    }
    if (parts.sexAge.length) {
      tables.appendChild(breakdownTable(kind, ["sex", "age_group"], parts.sexAge, what + " by sex and age group" + when));
    } else {
      if (parts.sex.length) { tables.appendChild(breakdownTable(kind, ["sex"], parts.sex, what + " by sex" + when)); }
      if (parts.age.length) {
        tables.appendChild(breakdownTable(kind, ["age_group"], parts.age, what + " by age group" + when));
      }
      if (!parts.sex.length && !parts.age.length) {
        tables.appendChild(el("p", { "class": "note no-breakdown" }, "No figures by sex or age were reported" + when + "."));
      }
    }
    if (parts.group.length) {
      tables.appendChild(
        breakdownTable(kind, ["population_group"], parts.group, what + " by population group" + when)
      );
    }
  }

  function loadBreakdown(kind, month) {
    if (!month) { return Promise.resolve({}); }
    var range = monthRange(month);
    return Promise.all([
      totals(kind, ["sex", "age_group"], range),
      totals(kind, ["sex"], range),
      totals(kind, ["age_group"], range),
      totals(kind, ["population_group"], range)
    ]).then(function (r) { return { sexAge: r[0], sex: r[1], age: r[2], group: r[3] }; });
  }

  // --- sites -----------------------------------------------------------------------------------

  function needsText(site) {
    var keys = Object.keys(site.needs || {}).sort();
    if (!keys.length) { return "not assessed"; }
    // keys are `sector.indicator`: when every key shares one indicator (Demoland: severity), name the sector only
    var indicators = keys.map(function (k) { return k.split(".").slice(-1)[0]; });
    var oneIndicator = indicators.every(function (i) { return i === indicators[0]; }) && keys[0].indexOf(".") > 0;
    var text = keys.map(function (k) {
      var label = oneIndicator ? k.split(".")[0] : k.replace(".", ": ");
      return label.replace(/_/g, " ") + " " + fmt.format(site.needs[k]);
    }).join(", ");
    if (oneIndicator) { text = indicators[0].replace(/_/g, " ") + ": " + text; }
    return site.assessed ? text + " (assessed " + site.assessed + ")" : text;
  }

  function renderSites(body, placeNames) {
    var tbody = document.querySelector("#sites tbody");
    tbody.textContent = "";
    body.rows.forEach(function (s) {
      var tr = el("tr", { "data-site": s.site_id });
      var th = cell(tr, s.name || s.site_id, null, "th");
      if (s.name) { th.appendChild(el("span", { "class": "site-id" }, " " + s.site_id)); }
      cell(tr, s.site_type || "–");
      var area = cell(tr, null);
      if (s.place) {
        area.appendChild(placeLink(s.place, placeNames[s.place] || s.place));
      } else {
        area.textContent = "–";
      }
      countCell(tr, s.households);
      countCell(tr, s.individuals);
      cell(tr, needsText(s));
      tbody.appendChild(tr);
    });
    var summary = body.total_rows === 0 ? "No sites are recorded in this place." :
      body.total_rows > body.rows.length ?
        "Showing " + fmt.format(body.rows.length) + " of " + fmt.format(body.total_rows) + " sites." :
        fmt.format(body.total_rows) + (body.total_rows === 1 ? " site." : " sites.");
    if (body.redacted && body.total_rows) { summary += " Small household and individual counts are redacted."; }
    setText("sites-summary", summary);
    document.getElementById("sites").hidden = body.total_rows === 0;
  }

  // --- wiring ----------------------------------------------------------------------------------

  function fail(error) {
    if (error instanceof NotFound) {
      showNotFound();
    } else {
      console.error(error);
      OTM.setStatus("Could not load the data: " + OTM.errorText(error), true);
    }
    document.body.setAttribute("data-state", error instanceof NotFound ? "not-found" : "error");
    OTM.ready();
  }

  function start() {
    getPlace("/places/" + encodeURIComponent(PCODE), [["geometry", "false"]]).then(function (feature) {
      var place = feature.properties;
      PCODE = place.pcode; // the store's spelling
      renderPlace(feature);
      var hasChildren = place.admin_level < 3;
      var children = hasChildren ?
        OTM.getJSON("/places", [["parent", place.pcode], ["geometry", "false"]]).then(function (c) { return c.features; }) :
        Promise.resolve([]);
      var arrivalsByMonth = totals("movements", ["month"]);
      var arrivalsByReason = totals("movements", ["month", "reason"]);
      var displaced = totals("displacement", ["month"]);
      var sites = OTM.getJSON("/sites", [["place", place.pcode], ["limit", "1000"]]);

      var arrivals = Promise.all([arrivalsByReason, arrivalsByMonth]).then(function (r) {
        renderArrivals(r[0], r[1]);
        var month = latestMonth(r[1]);
        renderHeadline("headline-arrivals", "headline-arrivals-month", r[1], month);
        return month;
      });
      var childList = Promise.all([children, arrivals]).then(function (r) {
        var month = r[1];
        var counts = r[0].length && month ?
          totals("movements", ["adm" + (place.admin_level + 1)], monthRange(month)) : Promise.resolve([]);
        return counts.then(function (rows) { renderChildren(place, r[0], rows, month); return r[0]; });
      });
      var arrivalsWho = arrivals.then(function (month) {
        return loadBreakdown("movements", month).then(function (parts) { renderBreakdown("movements", month, parts); });
      });
      var displacement = displaced.then(function (rows) {
        renderDisplacement(rows);
        var month = latestMonth(rows);
        document.getElementById("headline-displaced-card").hidden = !month;
        if (!month) { return null; }
        renderHeadline("headline-displaced", "headline-displaced-month", rows, month);
        return loadBreakdown("displacement", month).then(function (parts) {
          renderBreakdown("displacement", month, parts);
        });
      });
      var siteTable = Promise.all([sites, childList]).then(function (r) {
        var names = {};
        names[place.pcode] = place.name;
        r[1].forEach(function (c) { names[c.properties.pcode] = c.properties.name; });
        var unknown = r[0].rows.some(function (s) { return s.place && !names[s.place]; });
        // sites deeper than the areas listed here (a country's sites lie in districts): name them too
        var more = unknown ? OTM.getJSON("/places", [["geometry", "false"]]) : Promise.resolve({ features: [] });
        return more.then(function (all) {
          all.features.forEach(function (f) { names[f.properties.pcode] = f.properties.name; });
          renderSites(r[0], names);
        });
      });
      return Promise.all([arrivals, childList, arrivalsWho, displacement, siteTable]);
    }).then(function () {
      OTM.setStatus("");
      document.body.setAttribute("data-state", "ok");
      OTM.ready();
    }).catch(fail);
    window.addEventListener("resize", resizeCharts);
  }

  start();
})();
