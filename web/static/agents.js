/* The Agents page: the board, kept current by the event stream (web/templates/agents/index.html). */
(function () {
  "use strict";
  var board = document.getElementById("agents-board");
  if (!board) { return; }
  var rows = document.getElementById("agent-rows");
  var notice = document.getElementById("engine-notice");
  var live = document.getElementById("live-state");
  var expired = false;

  function setSince(td, since) {
    td.dataset.since = since || "";
    td.title = "since " + (since || "");
  }
  function render(data) {
    notice.hidden = data.engine_available;
    rows.replaceChildren();
    (data.agents || []).forEach(function (a) {
      var tr = document.createElement("tr");
      tr.dataset.extension = a.extension;
      tr.appendChild(fsCc.cell(a.extension));
      tr.appendChild(fsCc.cell(a.name || ""));
      tr.appendChild(fsCc.cell(a.status, "status status-" + a.status));
      var since = fsCc.cell("");
      since.className = "since";
      setSince(since, a.status_since);
      tr.appendChild(since);
      tr.appendChild(fsCc.cell((a.queues || []).join(", ")));
      rows.appendChild(tr);
    });
    fsCc.tick(rows);
  }
  function setLive(state, text) {
    live.dataset.state = state;
    live.textContent = text;
  }
  function loggedOut() {
    expired = true;
    notice.hidden = true;  // the engine may be fine: it is the login that ended
    setLive("expired", "Live: stopped; your session has expired.");
    if (source) { source.close(); }
  }
  // the whole board, asked again only when the stream (re)connects: what it did not tell
  function refresh() {
    fsCc.getJson(board.dataset.boardUrl)
      .then(render)
      .catch(function (error) {
        if (fsCc.isSessionExpired(error)) { loggedOut(); } else { notice.hidden = false; }
      });
  }
  function statusChanged(e) {
    var tr = null;
    rows.querySelectorAll("tr[data-extension]").forEach(function (row) {
      if (row.dataset.extension === e.agent) { tr = row; }
    });
    if (!tr) { refresh(); return; }  // an agent this page does not list yet
    var span = tr.querySelector("span.status");
    span.textContent = e.new;
    span.className = "status status-" + e.new;
    setSince(tr.querySelector("td.since"), e.ts);
    fsCc.tick(rows);
  }

  fsCc.tick(rows);
  setInterval(function () { fsCc.tick(rows); }, 1000);
  var source = new EventSource(board.dataset.streamUrl);
  source.addEventListener("open", function () {
    setLive("open", "Live: updated as agents change.");
    refresh();
  });
  source.addEventListener("error", function () {
    if (expired) { return; }
    if (source.readyState === EventSource.CLOSED) {
      // refused: ask the board, whose answer tells a logged-out session from a fault
      setLive("closed", "Live: stopped; reload the page.");
      refresh();
    } else {
      setLive("reconnecting", "Live: reconnecting…");
    }
  });
  source.addEventListener("unavailable", function () { notice.hidden = false; });
  source.addEventListener("resync", refresh);
  source.addEventListener("message", function (m) {
    var e = JSON.parse(m.data);
    if (e.type === "agent.status_changed") { statusChanged(e); }
  });
})();
