/* The Calls page: the calls in progress, asked again every few seconds (calls/index.html). */
(function () {
  "use strict";
  var section = document.getElementById("calls-in-progress");
  if (!section) { return; }
  var rows = document.getElementById("live-rows");
  var notice = document.getElementById("live-notice");
  var timer = null;

  function render(data) {
    notice.hidden = data.engine_available;
    rows.replaceChildren();
    (data.calls || []).forEach(function (c) {
      var tr = document.createElement("tr");
      var since = fsCc.cell("");
      since.className = "since";
      since.dataset.since = c.started_at || "";
      since.title = "started " + (c.started_at || "");
      tr.appendChild(since);
      [c.caller, c.did, c.state, c.queue, c.agent].forEach(function (text) {
        tr.appendChild(fsCc.cell(text));
      });
      rows.appendChild(tr);
    });
    if (!rows.children.length) {
      var empty = fsCc.cell("No calls in progress.");
      empty.colSpan = 6;
      empty.className = "empty";
      var tr = document.createElement("tr");
      tr.appendChild(empty);
      rows.appendChild(tr);
    }
    fsCc.tick(rows);
  }
  function refresh() {
    fsCc.getJson(section.dataset.liveUrl)
      .then(render)
      .catch(function (error) {
        if (fsCc.isSessionExpired(error)) {
          notice.hidden = true;
          clearInterval(timer);  // nothing more to ask until the user logs in again
        } else {
          notice.hidden = false;
        }
      });
  }

  fsCc.tick(rows);
  setInterval(function () { fsCc.tick(rows); }, 1000);
  timer = setInterval(refresh, Number(section.dataset.refreshMs) || 5000);
})();
