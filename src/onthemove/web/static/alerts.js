/* The alerts page: areas whose latest month is far above their own history, with the figures behind each
   flag, from GET /api/v1/alerts (redacted for anonymous users and partners by the server). */
(function () {
  "use strict";

  var cell = OTM.cell;
  var kindEl = document.getElementById("alert-kind");
  var levelEl = document.getElementById("alert-level");
  var body = document.querySelector("#alerts tbody");

  function load() {
    OTM.setStatus("Loading…");
    return OTM.getJSON("/alerts", [["kind", kindEl.value], ["level", levelEl.value]])
      .then(function (alerts) {
        body.textContent = "";
        alerts.forEach(function (a) {
          var tr = OTM.el("tr", { "data-pcode": a.area });
          cell(tr, a.area);
          cell(tr, a.name);
          cell(tr, a.period);
          cell(tr, OTM.formats.number.format(a.value), "num");
          cell(tr, OTM.formats.number.format(Math.round(a.median)), "num");
          cell(tr, a.ratio === null ? "new" : a.ratio.toFixed(1) + "×", "num");
          cell(tr, a.robust_z.toFixed(1), "num");
          cell(tr, a.reason);
          body.appendChild(tr);
        });
        OTM.setStatus(alerts.length ? alerts.length + " area(s) flagged." : "No area is flagged.");
        OTM.ready();
      })
      .catch(function (error) {
        OTM.setStatus("Could not load the alerts: " + error.message);
        OTM.ready();
      });
  }

  kindEl.addEventListener("change", load);
  levelEl.addEventListener("change", load);
  load();
})();
