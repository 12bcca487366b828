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

  // send JSON to a route of this site with the page's CSRF token; resolves with the answer's
  // JSON, rejects with an Error of its "error" (its body in .data) or with SessionExpired
  function sendJson(method, url, body) {
    var init = {method: method, credentials: "same-origin",
                headers: {"Accept": "application/json",
                          "X-CSRFToken": document.querySelector('meta[name="csrf-token"]').content}};
    if (body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    return fetch(url, init).then(function (r) {
      if (r.status === 401) { sessionExpired(); throw new SessionExpired(); }
      return r.json().then(function (data) {
        if (!r.ok) { var e = new Error(data.error || r.status); e.data = data; throw e; }
        return data;
      });
    });
  }

  // the live event stream at url: liveEl (the page's "Live: ..." line) says its state;
  // onOpen runs at each (re)connection and resync, onEvent with each event's JSON
  function liveStream(url, liveEl, onOpen, onEvent) {
    var source = new EventSource(url);
    source.addEventListener("open", function () {
      liveEl.dataset.state = "open";
      liveEl.textContent = "Live.";
      onOpen();
    });
    source.addEventListener("error", function () {
      var closed = source.readyState === EventSource.CLOSED;
      liveEl.dataset.state = closed ? "closed" : "reconnecting";
      liveEl.textContent = closed ? "Live: stopped; reload the page." : "Live: reconnecting…";
    });
    source.addEventListener("resync", onOpen);
    source.addEventListener("message", function (m) { onEvent(JSON.parse(m.data)); });
    return source;
  }

  return {duration: duration, tick: tick, cell: cell, getJson: getJson,
          sessionExpired: sessionExpired, isSessionExpired: isSessionExpired,
          sendJson: sendJson, liveStream: liveStream};
})();
