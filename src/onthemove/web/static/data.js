/* The data page: log in (the server sets an HttpOnly session cookie), list batches with their validation reports,
   roll a batch back and, for users the server says may upload, send a file and show the rows it rejected.
   Every request goes to this server. */
(function () {
  "use strict";

  var fmt = OTM.formats.number;
  var setStatus = OTM.setStatus;
  var cell = OTM.cell;

  var loginSection = document.getElementById("login-section");
  var loginForm = document.getElementById("login-form");
  var dataSection = document.getElementById("data-section");
  var uploadSection = document.getElementById("upload-section");
  var uploadForm = document.getElementById("upload-form");
  var whoami = document.getElementById("whoami");
  var logoutButton = document.getElementById("logout");

  // unlike OTM.request: { ok, status, body } of every answer, ok or not; the body (a form) is sent as it is
  function call(method, path, body) {
    var options = { method: method, headers: { Accept: "application/json" }, credentials: "same-origin" };
    if (body !== undefined) options.body = body;
    return fetch(OTM.API + path, options).then(function (response) {
      if (response.status === 204) return { ok: true, status: 204, body: null };
      return response.json().then(
        function (data) { return { ok: response.ok, status: response.status, body: data }; },
        function () { return { ok: response.ok, status: response.status, body: null }; }
      );
    });
  }

  function message(result) {
    var error = result.body && result.body.error;
    return error ? error.message : "the server answered " + result.status;
  }

  function showLoggedOut() {
    whoami.hidden = true;
    logoutButton.hidden = true;
    dataSection.hidden = true;
    uploadSection.hidden = true;
    loginSection.hidden = false;
  }

  function showLoggedIn(current) {
    session = current;
    whoami.textContent = session.username + " (" + session.role.replace("_", " ") + ")";
    whoami.hidden = false;
    logoutButton.hidden = false;
    loginSection.hidden = true;
    dataSection.hidden = false;
    // the server decides; the form is only left out of the page for those it would refuse anyway
    if (session.can && session.can.upload) {
      uploadSection.hidden = false;
    } else {
      uploadSection.remove();
      uploadSection = null;
    }
    return loadBatches();
  }

  var session = null;
  var showAll = document.getElementById("show-all");
  var reportSection = document.getElementById("report-section");
  var dateFmt = new Intl.DateTimeFormat("en-GB", {
    year: "numeric", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit", timeZone: "UTC"
  });

  function when(iso) {
    var d = new Date(iso);
    return isNaN(d) ? iso : dateFmt.format(d) + " UTC";
  }

  function actionButton(text, className, label, onClick) {
    var button = OTM.el("button", { type: "button", "class": className, "aria-label": label }, text);
    button.addEventListener("click", onClick);
    return button;
  }

  function loadBatches() {
    return call("GET", "/batches" + (showAll.checked ? "?all=true" : "")).then(function (result) {
      var tbody = document.querySelector("#batches tbody");
      tbody.textContent = "";
      if (!result.ok) {
        setStatus("Batches are not shown: " + message(result), result.status !== 403);
        return;
      }
      result.body.forEach(function (b) {
        var tr = document.createElement("tr");
        tr.dataset.batch = b.batch_id;
        tr.dataset.status = b.status;
        cell(tr, b.batch_id);
        cell(tr, b.kind);
        cell(tr, b.source_file);
        cell(tr, when(b.loaded_at));
        cell(tr, b.loaded_by);
        cell(tr, fmt.format(b.rows_read), "num");
        cell(tr, fmt.format(b.rows_loaded), "num");
        cell(tr, fmt.format(b.rows_rejected), "num");
        cell(tr, b.status);
        var actions = document.createElement("td");
        actions.className = "actions";
        if (session && session.can && session.can.reports) {
          actions.appendChild(actionButton("Report", "secondary report", "Validation report of batch " + b.batch_id,
            function () { openReport(b.batch_id); }));
        }
        if (session && session.can && session.can.rollback && b.status === "loaded") {
          actions.appendChild(actionButton("Roll back", "danger rollback", "Roll back batch " + b.batch_id,
            function () { rollback(b); }));
        }
        tr.appendChild(actions);
        tbody.appendChild(tr);
      });
      if (!result.body.length) setStatus("No batches yet.");
    });
  }

  function rollback(batch) {
    var question = "Roll back batch " + batch.batch_id + " (" + batch.source_file + ")? Its " +
      fmt.format(batch.rows_loaded) + " loaded rows will be removed from the store. The batch stays listed.";
    if (!window.confirm(question)) return Promise.resolve();
    setStatus("Rolling back " + batch.batch_id + "…");
    return call("POST", "/batches/" + encodeURIComponent(batch.batch_id) + "/rollback").then(function (result) {
      if (result.ok) {
        var removed = Object.keys(result.body.removed).filter(function (table) { return result.body.removed[table]; })
          .map(function (table) { return fmt.format(result.body.removed[table]) + " " + table; });
        setStatus("Rolled back " + batch.batch_id + ": removed " + (removed.join(", ") || "nothing") + ".");
      } else {
        setStatus("Not rolled back: " + message(result), true);
      }
      return loadBatches();
    });
  }

  var reportState = { batchId: null, offset: 0 };

  // a rejected row, as the batch's report lists it (row_number, column_name) or an upload's answer (row, column)
  function rejectionCells(r) {
    return [[r.row_number !== undefined ? r.row_number : r.row, true],
      [r.column_name !== undefined ? r.column_name : r.column], [r.value], [r.expected]];
  }

  function fact(list, term, value) {
    if (value === null || value === undefined || value === "") return;
    var dt = document.createElement("dt");
    dt.textContent = term;
    var dd = document.createElement("dd");
    dd.textContent = String(value);
    list.appendChild(dt);
    list.appendChild(dd);
  }

  function openReport(batchId) {
    setStatus("Loading the report of " + batchId + "…");
    return call("GET", "/batches/" + encodeURIComponent(batchId)).then(function (result) {
      if (!result.ok) {
        setStatus("No report: " + message(result), true);
        return;
      }
      var b = result.body;
      var report = b.report || {};
      document.getElementById("report-title").textContent = "Validation report: " + b.batch_id;
      var facts = document.getElementById("report-facts");
      facts.textContent = "";
      fact(facts, "Source", b.source_file);
      fact(facts, "Kind", b.kind);
      fact(facts, "Status", b.status);
      fact(facts, "Loaded", when(b.loaded_at) + (b.loaded_by ? " by " + b.loaded_by : ""));
      fact(facts, "Rows", fmt.format(b.rows_read) + " read, " + fmt.format(b.rows_loaded) + " loaded, " +
        fmt.format(b.rows_rejected) + " rejected");
      if (report.records_loaded !== undefined) fact(facts, "Records", fmt.format(report.records_loaded));
      fact(facts, "Mapping", b.mapping);
      fact(facts, "Attribution", b.attribution);
      fact(facts, "Licence", b.licence);
      fact(facts, "SHA-256", b.sha256);

      var summary = report.rejection_summary || [];
      OTM.fillTable("report-summary", summary, function (r) {
        return [[r.column], [r.expected], [fmt.format(r.rows), true], [r.first_row, true]];
      });
      document.getElementById("report-summary-block").hidden = !summary.length;

      var places = report.unmatched_places || [];
      OTM.fillTable("report-places", places, function (p) {
        return [[p.field], [p.name], [p.parent], [p.resolved_to || "rejected"],
          [(p.candidates || []).map(function (c) { return c.name + " (" + c.pcode + ")"; }).join("; ")]];
      });
      document.getElementById("report-places-block").hidden = !places.length;

      var notes = document.getElementById("report-notes");
      notes.textContent = "";
      (report.notes || []).forEach(function (text) { notes.appendChild(OTM.el("li", {}, text)); });

      reportState = { batchId: b.batch_id, offset: 0 };
      document.querySelector("#report-rows tbody").textContent = "";
      reportSection.hidden = false;
      return loadRejections().then(function () {
        setStatus("");
        reportSection.focus();
      });
    });
  }

  function loadRejections() {
    var path = "/batches/" + encodeURIComponent(reportState.batchId) + "/rejections?limit=100&offset=" +
      reportState.offset;
    return call("GET", path).then(function (result) {
      var block = document.getElementById("report-rows-block");
      if (!result.ok) {
        setStatus("Rejected rows are not shown: " + message(result), true);
        return;
      }
      OTM.fillTable("report-rows", result.body.rows, rejectionCells, true); // below those already shown
      reportState.offset += result.body.rows.length;
      var total = result.body.total_rows;
      document.getElementById("report-rows-count").textContent =
        "(" + fmt.format(reportState.offset) + " of " + fmt.format(total) + ")";
      document.getElementById("report-more").hidden = reportState.offset >= total;
      block.hidden = total === 0;
    });
  }

  document.getElementById("report-more").addEventListener("click", function () { loadRejections(); });
  showAll.addEventListener("change", function () { loadBatches(); });

  function showReport(report) {
    var result = document.getElementById("upload-result");
    document.getElementById("upload-summary").textContent =
      "Batch " + report.batch_id + " (" + report.status + "): " + fmt.format(report.rows_read) + " rows read, " +
      fmt.format(report.rows_loaded) + " loaded, " + fmt.format(report.rows_rejected) + " rejected.";
    OTM.fillTable("rejections", report.rejections || [], rejectionCells);
    result.hidden = false;
  }

  loginForm.addEventListener("submit", function (event) {
    event.preventDefault();
    setStatus("Logging in…");
    call("POST", "/session", new URLSearchParams(new FormData(loginForm))).then(function (result) {
      document.getElementById("login-password").value = "";
      if (!result.ok) {
        setStatus("Not logged in: " + message(result), true);
        return;
      }
      setStatus("");
      return start();
    });
  });

  logoutButton.addEventListener("click", function () {
    call("DELETE", "/session").then(function () { window.location.reload(); });
  });

  uploadForm.addEventListener("submit", function (event) {
    event.preventDefault();
    var body = new FormData(uploadForm);
    if (!document.getElementById("upload-strict").checked) body.delete("strict");
    setStatus("Uploading…");
    call("POST", "/batches", body).then(function (result) {
      if (result.ok) {
        setStatus("Uploaded.");
        showReport(result.body);
      } else if (result.status === 422 && result.body && result.body.error && result.body.error.code === "strict_refusal") {
        setStatus("Refused (strict): " + message(result), true);
        showReport(result.body.error.details);
      } else {
        setStatus("Upload failed: " + message(result), true);
      }
      return loadBatches();
    });
  });

  function start() {
    return call("GET", "/session").then(function (result) {
      if (result.ok) return showLoggedIn(result.body);
      showLoggedOut();
    });
  }

  start().then(
    function () { OTM.ready(); },
    function (err) { setStatus(String(err), true); OTM.ready(); }
  );
})();
