/* The supervisor's seat (web/templates/supervisor/index.html): a tile per queue coloured by the
   thresholds, the agents and the calls, kept current by the event stream; agent moves,
   listen / whisper / barge / take over, and a waiting caller's priority and queue for those
   allowed. */
(function () {
  "use strict";
  var root = document.getElementById("supervisor");
  if (!root) { return; }
  var api = root.dataset.api;
  var $ = function (id) { return document.getElementById(id); };
  var notice = $("supervisor-notice");
  var levels = {};
  var queues = {};   // name -> the queue's latest figures
  var boardTimer = null;
  var team = null;   // the team chosen in the selector ("all", an id), null: the user's default
  var teamShown = null;  // the team the last board showed (null: every agent)

  function post(path, body) { return fsCc.sendJson("POST", api + path, body || {}); }
  function say(text) { notice.textContent = text; notice.hidden = !text; }

  function percent(value) { return value === null || value === undefined ? "–" :
                            Math.round(value * 100) + " %"; }
  function seconds(value) { return value === null || value === undefined ? "–" :
                            Math.round(value) + " s"; }
  // "ok", "warn" or "alarm" for a figure, by its thresholds
  function level(name, value) {
    var l = levels[name];
    if (!l || value === null || value === undefined) { return "ok"; }
    var worseHigh = name === "waiting" || name === "longest_wait";
    if (worseHigh ? value >= l[1] : value <= l[1]) { return "alarm"; }
    if (worseHigh ? value >= l[0] : value <= l[0]) { return "warn"; }
    return "ok";
  }

  function tile(q) {
    var section = document.querySelector('.tile[data-queue="' + CSS.escape(q.name) + '"]');
    if (!section) {
      section = document.createElement("article");
      section.className = "tile";
      section.dataset.queue = q.name;
      $("wallboard").appendChild(section);
    }
    var agents = q.agents || {};
    var rows = [
      ["waiting", "Waiting", String(q.waiting)],
      ["longest_wait", "Longest wait", seconds(q.longest_wait)],
      ["service_level", "Service level today", percent(q.service_level)],
      ["service_level_30m", "Service level 30 min", percent(q.service_level_30m)],
      ["answered", "Answered / abandoned", (q.answered || 0) + " / " + (q.abandoned || 0)],
      ["answered_30m", "… last 30 min", (q.answered_30m || 0) + " / " + (q.abandoned_30m || 0)],
      ["asa", "ASA", seconds(q.asa)],
      ["aht", "AHT", seconds(q.aht)],
      ["agents", "Agents", ["available", "reserved", "on_call", "wrap_up", "not_ready"]
        .map(function (s) { return s.replace("_", " ") + " " + (agents[s] || 0); }).join(", ")]
    ];
    var dl = document.createElement("dl");
    rows.forEach(function (row) {
      var dt = document.createElement("dt");
      dt.textContent = row[1];
      var dd = document.createElement("dd");
      dd.textContent = row[2];
      dd.dataset.figure = row[0];
      var l = level(row[0], q[row[0]]);
      dt.className = dd.className = "level-" + l;
      dl.appendChild(dt);
      dl.appendChild(dd);
    });
    var h2 = document.createElement("h2");
    h2.textContent = q.name;
    section.replaceChildren(h2, dl);
    var worst = ["waiting", "longest_wait", "service_level", "service_level_30m"]
      .map(function (name) { return level(name, q[name]); });
    section.dataset.level = worst.indexOf("alarm") >= 0 ? "alarm" :
      worst.indexOf("warn") >= 0 ? "warn" : "ok";
  }

  function button(text, action) {
    var b = document.createElement("button");
    b.type = "button";
    b.textContent = text;
    b.addEventListener("click", function () { action().catch(function (e) { say(e.message); }); });
    return b;
  }
  function since(td, iso) {
    td.className = "since";
    td.dataset.since = iso || "";
  }

  function agentRows(agents) {
    var rows = $("agent-rows");
    rows.replaceChildren();
    agents.forEach(function (a) {
      var tr = document.createElement("tr");
      tr.dataset.extension = a.extension;
      tr.appendChild(fsCc.cell(a.extension));
      tr.appendChild(fsCc.cell(a.name || ""));
      tr.appendChild(fsCc.cell(a.status, "status status-" + a.status));
      var td = fsCc.cell("");
      since(td, a.status_since);
      tr.appendChild(td);
      tr.appendChild(fsCc.cell((a.queues || []).join(", ")));
      var actions = document.createElement("td");
      if (root.dataset.mayManage) {
        [["Ready", "available"], ["Not ready", "not_ready"], ["Log out", "logged_out"]]
          .forEach(function (pair) {
            actions.appendChild(button(pair[0], function () {
              return post("/agents/" + encodeURIComponent(a.extension) + "/status",
                          {status: pair[1]});
            }));
          });
      }
      tr.appendChild(actions);
      rows.appendChild(tr);
    });
    fsCc.tick(rows);
  }

  // a waiting caller: its priority (0-100, higher first) and the queue it waits in
  function waitingControls(actions, c) {
    var path = "/calls/" + encodeURIComponent(c.uuid);
    var priority = document.createElement("input");
    priority.type = "number";
    priority.min = "0";
    priority.max = "100";
    priority.value = "0";
    priority.className = "caller-priority";
    priority.setAttribute("aria-label", "Priority of " + c.caller);
    actions.appendChild(priority);
    actions.appendChild(button("set priority", function () {
      return post(path + "/priority", {priority: parseInt(priority.value, 10)})
        .then(function (answer) { say("Priority " + answer.priority + " in " + answer.queue); });
    }));
    var others = Object.keys(queues).sort().filter(function (name) { return name !== c.queue; });
    if (!others.length) { return; }
    var select = document.createElement("select");
    select.className = "caller-queue";
    select.setAttribute("aria-label", "Queue to move " + c.caller + " to");
    others.forEach(function (name) {
      var option = document.createElement("option");
      option.value = option.textContent = name;
      select.appendChild(option);
    });
    actions.appendChild(select);
    actions.appendChild(button("move", function () {
      return post(path + "/move", {queue: select.value})
        .then(function (answer) { say("Moved to " + answer.queue); });
    }));
  }

  function callRows(calls) {
    var rows = $("call-rows");
    rows.replaceChildren();
    calls.forEach(function (c) {
      var tr = document.createElement("tr");
      tr.dataset.call = c.uuid;
      tr.appendChild(fsCc.cell(c.caller));
      tr.appendChild(fsCc.cell(c.state));
      tr.appendChild(fsCc.cell(c.queue || ""));
      tr.appendChild(fsCc.cell(c.agent || ""));
      var td = fsCc.cell("");
      since(td, c.started_at);
      tr.appendChild(td);
      var actions = document.createElement("td");
      if (root.dataset.maySupervise && c.agent) {
        ["listen", "whisper", "barge"].forEach(function (mode) {
          actions.appendChild(button(mode, function () {
            return post("/calls/" + encodeURIComponent(c.uuid) + "/supervise", {mode: mode})
              .then(function () { say(""); });
          }));
        });
        actions.appendChild(button("take over", function () {
          return post("/calls/" + encodeURIComponent(c.uuid) + "/take-over")
            .then(function () { say("Your phone rings: answer it to take the call."); });
        }));
      }
      if (root.dataset.maySupervise && !c.agent && c.queue) {  // in line (or the IVR before it)
        waitingControls(actions, c);
      }
      tr.appendChild(actions);
      rows.appendChild(tr);
    });
    fsCc.tick(rows);
  }

  // the selector: every team, the one shown selected
  function teamChoices(board) {
    var select = $("team-select");
    var options = [["all", "All agents"]].concat((board.teams || []).map(function (t) {
      return [String(t.id), t.name];
    }));
    select.replaceChildren.apply(select, options.map(function (pair) {
      var option = document.createElement("option");
      option.value = pair[0];
      option.textContent = pair[1];
      return option;
    }));
    teamShown = board.team || null;
    select.value = teamShown ? String(teamShown.id) : "all";
  }

  function boardUrl() {
    return root.dataset.boardUrl + (team === null ? "" : "?team=" + encodeURIComponent(team));
  }

  function refresh() {
    return fsCc.getJson(boardUrl()).then(function (board) {
      teamChoices(board);
      levels = board.thresholds || {};
      say(board.engine_available ? "" : "Engine unavailable: " + (board.error || ""));
      board.queues.forEach(function (q) { queues[q.name] = q; tile(q); });
      agentRows(board.agents);
      callRows(board.calls);
    }).catch(function (error) { if (!fsCc.isSessionExpired(error)) { say(error.message); } });
  }
  // calls and agents change with many events: one board request for a burst of them
  function refreshSoon() {
    clearTimeout(boardTimer);
    boardTimer = setTimeout(refresh, 300);
  }

  function onEvent(e) {
    if (e.type === "queue.figures") {
      var q = Object.assign({}, queues[e.queue] || {name: e.queue}, e, {name: e.queue});
      queues[e.queue] = q;
      tile(q);
    } else if (e.type === "agent.status_changed") {
      var tr = document.querySelector('#agent-rows tr[data-extension="' + CSS.escape(e.agent) + '"]');
      if (!tr) { if (!teamShown) { refreshSoon(); } return; }  // not of the team shown
      var span = tr.querySelector("span.status");
      span.textContent = e.new;
      span.className = "status status-" + e.new;
      since(tr.querySelector("td.since"), e.ts);
      fsCc.tick($("agent-rows"));
    } else if (e.type && e.type.indexOf("call.") === 0) {
      refreshSoon();
    }
  }

  $("team-select").addEventListener("change", function (e) {
    team = e.target.value;
    refresh();
  });
  $("full-screen").addEventListener("click", function () {
    document.body.classList.add("tv");
    if (document.documentElement.requestFullscreen) {
      document.documentElement.requestFullscreen().catch(function () {});
    }
  });
  document.addEventListener("fullscreenchange", function () {
    if (!document.fullscreenElement && !/[?&]tv=1/.test(location.search)) {
      document.body.classList.remove("tv");
    }
  });
  setInterval(function () {
    fsCc.tick($("agent-rows"));
    fsCc.tick($("call-rows"));
  }, 1000);
  fsCc.liveStream(root.dataset.streamUrl, $("live-state"), refresh, onEvent);
})();
