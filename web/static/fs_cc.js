/* fs_cc: what the live pages share (loaded before agents.js and calls.js; no inline script,
   so the pages work under the Content-Security-Policy "script-src 'self'"). */
var fsCc = (function () {
  "use strict";

  // "1h 02m 05s", "2m 05s", "5s": how long since an ISO time
  function duration(sinceIso, now) {
    var since = Date.parse(sinceIso);
    if (isNaN(since)) { return ""; }
    var s = Math.max(0, Math.floor((now - since) / 1000));
    var h = Math.floor(s / 3600), m = Math.floor(s % 3600 / 60), sec = s % 60;
    return (h ? h + "h " : "") + (h || m ? m + "m " : "") +
      (h || m ? String(sec).padStart(2, "0") : sec) + "s";
  }

  // fill every td.since under root with the time since its data-since
  function tick(root) {
    var now = Date.now();
    root.querySelectorAll("td.since").forEach(function (td) {
      td.textContent = duration(td.dataset.since, now);
    });
  }

  function cell(text, spanClass) {
    var td = document.createElement("td");
    if (spanClass) {
      var span = document.createElement("span");
      span.className = spanClass;
      span.textContent = text || "";
      td.appendChild(span);
    } else {
      td.textContent = text || "";
    }
    return td;
  }

  // the page's "session expired" notice (base.html), shown instead of any engine notice
  function sessionExpired() {
    var notice = document.getElementById("session-expired");
    if (notice) { notice.hidden = false; }
  }

  function SessionExpired() { this.name = "SessionExpired"; }

  // GET a JSON route of this site; a 401 shows the notice and rejects with SessionExpired
  function getJson(url) {
    return fetch(url, {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (r) {
        if (r.status === 401) { sessionExpired(); throw new SessionExpired(); }
        if (!r.ok) { throw new Error(url + " answered " + r.status); }
        return r.json();
      });
  }

  function isSessionExpired(error) { return error instanceof SessionExpired; }

  return {duration: duration, tick: tick, cell: cell, getJson: getJson,
          sessionExpired: sessionExpired, isSessionExpired: isSessionExpired};
})();
