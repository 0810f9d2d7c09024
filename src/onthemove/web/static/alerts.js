/* The alerts page: areas whose latest month is far above their own history, with the figures behind each
   flag, from GET /api/v1/alerts (redacted for anonymous users and partners by the server). */
(function () {
  "use strict";

  var API = document.body.getAttribute("data-api-base") || "/api/v1";
  var fmt = new Intl.NumberFormat("en");
  var kindEl = document.getElementById("alert-kind");
  var levelEl = document.getElementById("alert-level");
  var statusEl = document.getElementById("status");
  var body = document.querySelector("#alerts tbody");

  function cell(row, text, className) {
    var td = document.createElement("td");
    td.textContent = text;
    if (className) { td.className = className; }
    row.appendChild(td);
  }

  function load() {
    var url = API + "/alerts?kind=" + encodeURIComponent(kindEl.value) + "&level=" + encodeURIComponent(levelEl.value);
    statusEl.textContent = "Loading…";
    return fetch(url, { credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) { throw new Error("the server answered " + response.status); }
        return response.json();
      })
      .then(function (alerts) {
        body.textContent = "";
        alerts.forEach(function (a) {
          var tr = document.createElement("tr");
          tr.setAttribute("data-pcode", a.area);
          cell(tr, a.area);
          cell(tr, a.name);
          cell(tr, a.period);
          cell(tr, fmt.format(a.value), "num");
          cell(tr, fmt.format(Math.round(a.median)), "num");
          cell(tr, a.ratio === null ? "new" : a.ratio.toFixed(1) + "×", "num");
          cell(tr, a.robust_z.toFixed(1), "num");
          cell(tr, a.reason);
          body.appendChild(tr);
        });
        statusEl.textContent = alerts.length ? alerts.length + " area(s) flagged." : "No area is flagged.";
        document.body.setAttribute("data-ready", "true");
      })
      .catch(function (error) {
        statusEl.textContent = "Could not load the alerts: " + error.message;
        document.body.setAttribute("data-ready", "true");
      });
  }

  kindEl.addEventListener("change", load);
  levelEl.addEventListener("change", load);
  load();
})();
