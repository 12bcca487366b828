/* The agent desktop (web/templates/desktop/index.html): the agent's state and queues, the screen
   pop on an offer, wrap-up with a disposition; live through the event stream, no reloads. What
   the agent types in wrap-up is kept server-side as a draft, so a reload loses nothing. */
(function () {
  "use strict";
  var root = document.getElementById("desktop");
  if (!root) { return; }
  var ext = root.dataset.extension;
  var stateUrl = root.dataset.stateUrl;
  var api = stateUrl.replace(/\/state$/, "");
  var $ = function (id) { return document.getElementById(id); };
  var notice = $("desktop-notice");
  var current = null;     // the call shown: {uuid, answered, pop}
  var statusSince = null;
  var draftTimer = null;

  function send(method, path, body) {
    return fsCc.sendJson(method, api + path, body).then(function (data) {
      if (method !== "PUT" && notice.dataset.kind === "refused") { say(""); }
      return data;
    });
  }
  // the notice says what went wrong: a refusal (kind "refused") stays until the agent acts
  // again; the engine's trouble (kind "engine") goes once the state is read again
  function say(text, kind) {
    notice.textContent = text;
    notice.hidden = !text;
    notice.dataset.kind = text ? (kind || "engine") : "";
  }
  function fail(error) { say(error.message, "refused"); }

  function showAgent(agent, reason) {
    var span = $("agent-status");
    var status = agent ? agent.status : "not an agent";
    span.textContent = status;
    span.className = "status status-" + status;
    statusSince = agent ? agent.status_since : null;
    $("agent-reason").textContent = reason ? "(" + reason + ")" : "";
    $("end-wrap-up").hidden = status !== "wrap_up";
    tick();
  }
  function tick() {
    $("agent-since").textContent = statusSince ? fsCc.duration(statusSince, Date.now()) : "";
  }

  function showQueues(queues) {
    var rows = $("queue-rows");
    rows.replaceChildren();
    queues.forEach(function (q) {
      var tr = document.createElement("tr");
      tr.dataset.queue = q.name;
      tr.appendChild(fsCc.cell(q.name));
      var waiting = fsCc.cell(String(q.waiting));
      waiting.className = "waiting";
      tr.appendChild(waiting);
      tr.appendChild(fsCc.cell(String(q.agents_available)));
      tr.appendChild(fsCc.cell(q.member ? "yes" : "no"));
      var td = document.createElement("td");
      var button = document.createElement("button");
      button.type = "button";
      button.textContent = q.member ? "Log out" : "Log in";
      button.addEventListener("click", function () {
        send("POST", q.member ? "/logout" : "/login", {queue: q.name})
          .then(refresh).catch(fail);
      });
      td.appendChild(button);
      tr.appendChild(td);
      rows.appendChild(tr);
    });
    if (!queues.length) {
      rows.innerHTML = '<tr><td colspan="5" class="empty">No queues.</td></tr>';
    }
  }

  function showOwed(owed) {
    var list = $("owed");
    list.replaceChildren();
    owed.forEach(function (call) {
      var li = document.createElement("li");
      li.dataset.call = call.call_uuid;
      li.textContent = (call.caller || call.call_uuid) + (call.queue ? " (" + call.queue + ")" : "");
      li.addEventListener("click", function () { openCall(call.call_uuid, true); });
      list.appendChild(li);
    });
    if (!owed.length) { list.innerHTML = '<li class="empty">none</li>'; }
  }

  // what the transfer target offers for its kind: the queues, the IVR flows (a caller's flow
  // goes on there from its start); an agent or a number is typed
  var transferChoices = {queue: [], ivr: []};
  function showTransferChoices() {
    var list = $("transfer-targets");
    list.replaceChildren();
    (transferChoices[$("transfer-kind").value] || []).forEach(function (name) {
      var option = document.createElement("option");
      option.value = name;
      list.appendChild(option);
    });
  }

  function refresh() {
    return fsCc.getJson(stateUrl).then(function (data) {
      if (notice.dataset.kind !== "refused") { say(""); }
      showAgent(data.agent);
      showQueues(data.queues);
      transferChoices.queue = data.queues.map(function (q) { return q.name; });
      transferChoices.ivr = data.flows || [];
      showTransferChoices();
      showOwed(data.owed);
      if (!current && data.owed.length) { openCall(data.owed[0].call_uuid, true); }
    }).catch(function (error) { if (!fsCc.isSessionExpired(error)) { say(error.message); } });
  }

  function text(id, value) { $(id).textContent = value === null || value === undefined ? "" : value; }

  function showPop(pop) {
    var call = pop.call;
    $("pop").hidden = false;
    $("pop").dataset.call = call.uuid;
    text("pop-state", call.state);
    var lookup = pop.lookup;
    text("pop-number", lookup ? lookup.number : call.caller);
    text("pop-name", lookup ? lookup.customer.name : (call.caller_name || ""));
    text("pop-origin", call.origin === "inbound" ? "" : call.origin);
    $("pop-new").hidden = pop.known;
    $("pop-new-link").href = root.dataset.newCustomerUrl + "?number=" +
      encodeURIComponent(call.caller || "");
    var link = $("pop-customer-link");
    link.hidden = !pop.known;
    if (pop.known) {
      link.querySelector("a").href = root.dataset.customerUrl.replace(/0$/, lookup.customer.id);
    }
    text("pop-queue", call.queue || "");
    text("pop-waited", call.waited === null || call.waited === undefined ? "" :
         Math.round(call.waited) + " s");
    text("pop-ivr", ((call.ivr && call.ivr.path) || []).join(" → "));
    text("pop-inputs", ((call.ivr && call.ivr.inputs) || []).map(function (i) {
      return i.node + ": " + (i.input === null ? "(nothing)" : i.input);
    }).join(", "));
    showPhones(pop.known ? (lookup.customer.phones || []) : []);
    var contacts = $("pop-contacts");
    contacts.replaceChildren();
    ((lookup && lookup.contacts) || []).forEach(function (item) {
      var li = document.createElement("li");
      li.textContent = item.at.slice(0, 16).replace("T", " ") + " " + item.title;
      contacts.appendChild(li);
    });
    if (!contacts.children.length) { contacts.innerHTML = '<li class="empty">none</li>'; }
    var mine = call.agent === ext && (call.state === "connected" || call.state === "held");
    $("call-controls").hidden = !mine;
    if (mine) { showHeld(call.state === "held"); showMuted(false); }
    fillWrapUp(pop);
  }

  // the customer's numbers with a "call" link each (a masked number cannot be called)
  function showPhones(phones) {
    var list = $("pop-phones");
    list.replaceChildren();
    phones.forEach(function (phone) {
      var number = phone.e164 || "";
      var li = document.createElement("li");
      li.textContent = number + (phone.label ? " (" + phone.label + ") " : " ");
      if (/^\+?[0-9]{1,31}$/.test(number)) {
        var link = document.createElement("a");
        link.href = "#";
        link.className = "call-number";
        link.dataset.number = number;
        link.textContent = "call";
        link.addEventListener("click", function (ev) { ev.preventDefault(); dial(number); });
        li.appendChild(link);
      }
      list.appendChild(li);
    });
    list.hidden = !phones.length;
  }

  function dial(number) {
    return send("POST", "/dial", {number: number}).catch(fail);
  }

  function fillWrapUp(pop) {
    var select = $("wrap-disposition");
    var chosen = (pop.draft && pop.draft.disposition) || (pop.filed && pop.filed.disposition) || "";
    select.replaceChildren();
    var empty = document.createElement("option");
    empty.value = "";
    empty.textContent = "choose…";
    select.appendChild(empty);
    pop.dispositions.forEach(function (label) {
      var option = document.createElement("option");
      option.value = label;
      option.textContent = label;
      option.selected = label === chosen;
      select.appendChild(option);
    });
    var notes = (pop.draft && pop.draft.notes) || (pop.filed && pop.filed.notes) || "";
    if (document.activeElement !== $("wrap-notes")) { $("wrap-notes").value = notes; }
    text("wrap-saved", pop.filed ? "filed as " + pop.filed.disposition : "");
  }

  function openCall(uuid, wrapUp) {
    current = {uuid: uuid};
    var started = performance.now();
    return fsCc.getJson(api + "/calls/" + encodeURIComponent(uuid) + "/pop").then(function (pop) {
      if (!current || current.uuid !== uuid) { return; }
      current.pop = pop;
      showPop(pop);
      root.dataset.popMs = String(Math.round(performance.now() - started));
      root.dataset.popRenderedAt = String(Date.now());  // wall clock, as the events' ts
      if (wrapUp) { $("wrap-up").hidden = false; }
    }).catch(function (error) {
      if (fsCc.isSessionExpired(error)) { return; }
      if (wrapUp) {  // the engine forgot the call: wrap it up from what the server has
        $("wrap-up").hidden = false;
        fillWrapUp({dispositions: [], draft: null, filed: null});
      }
      say(error.message);
    });
  }

  function clearWrapUp() {
    $("wrap-disposition").value = "";
    $("wrap-notes").value = "";
    text("wrap-saved", "");
    $("wrap-error").hidden = true;
  }

  function wrapUpData() {
    var data = {disposition: $("wrap-disposition").value, notes: $("wrap-notes").value};
    var lookup = current && current.pop && current.pop.lookup;
    if (lookup) { data.customer_id = lookup.customer.id; }
    return data;
  }
  function saveDraft() {
    if (!current) { return; }
    clearTimeout(draftTimer);
    draftTimer = setTimeout(function () {
      send("PUT", "/calls/" + encodeURIComponent(current.uuid) + "/draft", wrapUpData())
        .then(function () { text("wrap-saved", "draft saved"); })
        .catch(function (error) { text("wrap-saved", "draft not saved: " + error.message); });
    }, 400);
  }

  $("wrap-disposition").addEventListener("change", saveDraft);
  $("wrap-notes").addEventListener("input", saveDraft);
  $("wrap-up-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    if (!current) { return; }
    clearTimeout(draftTimer);
    var error = $("wrap-error");
    send("POST", "/calls/" + encodeURIComponent(current.uuid) + "/disposition", wrapUpData())
      .then(function (filed) {
        error.hidden = true;
        text("wrap-saved", "filed as " + filed.disposition);
        $("wrap-up").hidden = true;
        $("pop").hidden = true;
        current = null;
        refresh();
      })
      .catch(function (e) { error.textContent = e.message; error.hidden = false; });
  });
  // the call controls, for the agent's own connected call
  function control(path, body) {
    if (!current) { return Promise.resolve(); }
    return send("POST", "/calls/" + encodeURIComponent(current.uuid) + path, body).catch(fail);
  }
  function showHeld(held) {
    $("call-hold").hidden = held;
    $("call-unhold").hidden = !held;
    text("pop-state", held ? "held" : "connected");
  }
  function showMuted(muted) {
    $("call-mute").hidden = muted;
    $("call-unmute").hidden = !muted;
  }
  $("call-mute").addEventListener("click", function () { control("/mute"); });
  $("call-unmute").addEventListener("click", function () { control("/unmute"); });
  $("dial-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    dial($("dial-number").value.trim()).then(function (answer) {
      if (answer) { $("dial-number").value = ""; }
    });
  });
  $("call-hold").addEventListener("click", function () { control("/hold"); });
  $("call-unhold").addEventListener("click", function () { control("/unhold"); });
  $("call-dtmf").addEventListener("click", function () {
    control("/dtmf", {digits: $("call-digits").value}).then(function () {
      $("call-digits").value = "";
    });
  });
  $("transfer-kind").addEventListener("change", function () {
    $("transfer-target").value = "";
    showTransferChoices();
  });
  $("call-transfer").addEventListener("click", function () {
    control("/transfer", {kind: $("transfer-kind").value, target: $("transfer-target").value});
  });

  // consult (attended) transfer: to an agent or a number of the transfer fields
  function showConsulting(on) {
    $("consult-controls").hidden = !on;
    $("call-consult").hidden = on;
    $("call-transfer").hidden = on;
  }
  $("call-consult").addEventListener("click", function () {
    control("/consult", {kind: $("transfer-kind").value, target: $("transfer-target").value});
  });
  $("consult-complete").addEventListener("click", function () { control("/consult/complete"); });
  $("consult-cancel").addEventListener("click", function () { control("/consult/cancel"); });
  $("consult-conference").addEventListener("click", function () { control("/conference"); });

  $("go-ready").addEventListener("click", function () {
    send("POST", "/status", {status: "available"}).then(refresh).catch(fail);
  });
  $("go-not-ready").addEventListener("click", function () {
    send("POST", "/status", {status: "not_ready", reason: $("not-ready-reason").value})
      .then(refresh).catch(fail);
  });
  $("end-wrap-up").addEventListener("click", function () {
    send("POST", "/end-wrap-up").then(refresh).catch(fail);
  });

  function onEvent(e) {
    if (e.type === "agent.status_changed" && e.agent === ext) {
      showAgent({status: e.new, status_since: e.ts}, e.reason);
      if (e.new === "available" || e.new === "wrap_up") { refresh(); }
    } else if (e.type === "queue.figures") {
      var tr = document.querySelector('#queue-rows tr[data-queue="' + CSS.escape(e.queue) + '"]');
      if (tr) { tr.querySelector("td.waiting").textContent = String(e.waiting); }
    } else if (e.type === "call.offered" && e.agent === ext) {
      $("wrap-up").hidden = true;
      clearWrapUp();
      root.dataset.offerTs = e.ts;  // the engine's time of the offer; ours when it came:
      root.dataset.offerReceivedAt = String(Date.now());
      openCall(e.call_uuid, false);
    } else if ((e.type === "call.held" || e.type === "call.unheld") && current &&
               current.uuid === e.call_uuid) {
      showHeld(e.type === "call.held");
    } else if ((e.type === "call.muted" || e.type === "call.unmuted") && current &&
               current.uuid === e.call_uuid) {
      showMuted(e.type === "call.muted");
    } else if ((e.type === "call.consult_started" || e.type === "call.consult_ended") &&
               current && current.uuid === e.call_uuid) {
      showConsulting(e.type === "call.consult_started");
      text("pop-state", e.type === "call.consult_started" ? "consulting " + e.target :
           (e.outcome === "completed" ? "transferred" :
            e.outcome === "conference" ? "three-way conference" : "connected"));
    } else if (e.type === "call.conference_started" && current && current.uuid === e.call_uuid) {
      showConsulting(false);
      $("call-controls").hidden = true;  // in the room: hang up to leave the other two talking
      text("pop-state", "three-way conference");
    } else if (e.type === "call.transferred" && current && current.uuid === e.call_uuid) {
      $("call-controls").hidden = true;
      text("pop-state", "transferred to " + e.target);
    } else if (e.type === "call.answered" && e.agent === ext) {
      $("call-controls").hidden = false;
      showHeld(false);
      showMuted(false);
      showConsulting(false);
      if (!current || current.uuid !== e.call_uuid) { openCall(e.call_uuid, true); }
      else { $("wrap-up").hidden = false; text("pop-state", "connected"); }
      // a draft marks the call as owed a disposition before its record is stored; it starts
      // empty (the form may still hold the last call's values while this pop loads)
      current.uuid = e.call_uuid;
      var lookup = current.pop && current.pop.lookup;
      send("PUT", "/calls/" + encodeURIComponent(e.call_uuid) + "/draft",
           lookup ? {customer_id: lookup.customer.id} : {})
        .catch(function () {});
    } else if (e.type === "call.offer_failed" && e.agent === ext && current &&
               current.uuid === e.call_uuid) {
      $("pop").hidden = true;
      current = null;
    } else if (e.type === "call.ended" && current && current.uuid === e.call_uuid) {
      text("pop-state", "ended");
      $("call-controls").hidden = true;
      if (!current.pop || current.pop.call.agent !== ext) {
        if ($("wrap-up").hidden) { $("pop").hidden = true; current = null; }
      }
    }
  }

  setInterval(tick, 1000);
  fsCc.liveStream(root.dataset.streamUrl, $("live-state"), refresh, onEvent);
})();
