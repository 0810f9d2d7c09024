/* The data page: log in (the server sets an HttpOnly session cookie), list batches, and, for users the
   server says may upload, send a file and show the rows it rejected. Every request goes to this server. */
(function () {
  "use strict";

  var API = document.body.getAttribute("data-api-base") || "/api/v1";
  var fmt = new Intl.NumberFormat("en");

  var statusEl = document.getElementById("status");
  var loginSection = document.getElementById("login-section");
  var loginForm = document.getElementById("login-form");
  var dataSection = document.getElementById("data-section");
  var uploadSection = document.getElementById("upload-section");
  var uploadForm = document.getElementById("upload-form");
  var whoami = document.getElementById("whoami");
  var logoutButton = document.getElementById("logout");

  function setStatus(text, isError) {
    statusEl.textContent = text;
    statusEl.classList.toggle("error", !!isError);
  }

  function call(method, path, body) {
    var options = { method: method, headers: { Accept: "application/json" }, credentials: "same-origin" };
    if (body !== undefined) options.body = body;
    return fetch(API + path, options).then(function (response) {
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

  function cell(row, text, className) {
    var td = document.createElement("td");
    td.textContent = text === null || text === undefined ? "" : String(text);
    if (className) td.className = className;
    row.appendChild(td);
  }

  function showLoggedOut() {
    whoami.hidden = true;
    logoutButton.hidden = true;
    dataSection.hidden = true;
    uploadSection.hidden = true;
    loginSection.hidden = false;
  }

  function showLoggedIn(session) {
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

  function loadBatches() {
    return call("GET", "/batches").then(function (result) {
      var tbody = document.querySelector("#batches tbody");
      tbody.textContent = "";
      if (!result.ok) {
        setStatus("Batches are not shown: " + message(result), result.status !== 403);
        return;
      }
      result.body.forEach(function (b) {
        var tr = document.createElement("tr");
        tr.dataset.batch = b.batch_id;
        cell(tr, b.batch_id);
        cell(tr, b.kind);
        cell(tr, b.source_file);
        cell(tr, fmt.format(b.rows_read), "num");
        cell(tr, fmt.format(b.rows_loaded), "num");
        cell(tr, fmt.format(b.rows_rejected), "num");
        cell(tr, b.status);
        tbody.appendChild(tr);
      });
      if (!result.body.length) setStatus("No batches yet.");
    });
  }

  function showReport(report) {
    var result = document.getElementById("upload-result");
    document.getElementById("upload-summary").textContent =
      "Batch " + report.batch_id + " (" + report.status + "): " + fmt.format(report.rows_read) + " rows read, " +
      fmt.format(report.rows_loaded) + " loaded, " + fmt.format(report.rows_rejected) + " rejected.";
    var tbody = document.querySelector("#rejections tbody");
    tbody.textContent = "";
    (report.rejections || []).forEach(function (r) {
      var tr = document.createElement("tr");
      cell(tr, r.row_number !== undefined ? r.row_number : r.row, "num");
      cell(tr, r.column_name !== undefined ? r.column_name : r.column);
      cell(tr, r.value);
      cell(tr, r.expected);
      tbody.appendChild(tr);
    });
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
    function () { document.body.setAttribute("data-ready", "true"); },
    function (err) { setStatus(String(err), true); document.body.setAttribute("data-ready", "true"); }
  );
})();
