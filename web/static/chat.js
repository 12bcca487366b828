/* Notices and messages (web/chat/templates/chat/_panel.html): a banner per notice until it is
   acknowledged, the conversations, one thread and its send box, kept current by the chat
   stream (/api/chat/stream); a reconnect resumes where the stream left off (Last-Event-ID). */
(function () {
  "use strict";
  var root = document.getElementById("chat");
  if (!root) { return; }
  var $ = function (id) { return document.getElementById(id); };
  var me = root.dataset.me;
  var current = null;  // the username of the thread shown
  var shown = {};      // message ids in the thread shown

  function say(text) { $("chat-error").textContent = text || ""; $("chat-error").hidden = !text; }
  function fail(error) { if (!fsCc.isSessionExpired(error)) { say(error.message); } }
  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text !== undefined) { node.textContent = text; }
    return node;
  }

  function banner(n) {
    if (n.acked_at || document.querySelector('.chat-notice[data-notice="' + n.id + '"]')) {
      return;
    }
    var box = el("div", "notice chat-notice");
    box.dataset.notice = n.id;
    box.appendChild(el("strong", "", n.title));
    if (n.body) { box.appendChild(el("p", "", n.body)); }
    box.appendChild(el("span", "count", (n.author ? n.author.display_name : "") +
                       (n.team ? " · " + n.team : " · everyone")));
    var ack = el("button", "", "Got it");
    ack.type = "button";
    ack.addEventListener("click", function () {
      fsCc.sendJson("POST", root.dataset.noticesUrl + "/" + n.id + "/ack")
        .then(function () { box.remove(); }).catch(fail);
    });
    box.appendChild(ack);
    $("chat-notices").prepend(box);
  }

  function conversations(list) {
    var ul = $("chat-conversations");
    ul.replaceChildren();
    list.forEach(function (c) {
      var li = el("li");
      li.dataset.with = c.with.username;
      var b = el("button", c.with.username === current ? "current" : "",
                 c.with.display_name + (c.unread ? " (" + c.unread + ")" : ""));
      b.type = "button";
      b.addEventListener("click", function () { open(c.with.username, c.with.display_name); });
      li.appendChild(b);
      ul.appendChild(li);
    });
  }

  function loadConversations() {
    return fsCc.getJson(root.dataset.messagesUrl).then(function (data) {
      conversations(data.conversations);
      return data.cursor;
    });
  }

  function markRead(m) {
    if (m.to.username === me && !m.read_at) {
      fsCc.sendJson("POST", root.dataset.messagesUrl + "/" + m.id + "/read")
        .then(loadConversations).catch(fail);
    }
  }

  function append(m) {
    if (shown[m.id]) { return; }
    shown[m.id] = true;
    var li = el("li", m.from.username === me ? "mine" : "theirs");
    li.dataset.message = m.id;
    li.appendChild(el("span", "count", m.from.display_name + " · " +
                      new Date(m.created_at).toLocaleTimeString()));
    li.appendChild(el("p", "", m.body));
    $("chat-messages").appendChild(li);
    li.scrollIntoView({block: "nearest"});
  }

  function open(username, name) {
    current = username;
    shown = {};
    $("chat-with").textContent = name || username;
    $("chat-messages").replaceChildren();
    $("chat-send").hidden = false;
    return fsCc.getJson(root.dataset.messagesUrl + "?with=" + encodeURIComponent(username))
      .then(function (data) {
        data.messages.forEach(append);
        if (data.messages.length) { markRead(data.messages[data.messages.length - 1]); }
        return loadConversations();
      }).catch(fail);
  }

  function onMessage(m) {
    var other = m.from.username === me ? m.to.username : m.from.username;
    if (other === current) { append(m); markRead(m); } else { loadConversations().catch(fail); }
  }

  $("chat-send").addEventListener("submit", function (e) {
    e.preventDefault();
    var text = $("chat-text").value;
    if (!current || !text.trim()) { return; }
    fsCc.sendJson("POST", root.dataset.messagesUrl, {to: current, body: text})
      .then(function (m) { $("chat-text").value = ""; say(""); append(m); })
      .catch(fail);
  });

  var noticeForm = $("chat-notice-form");
  if (noticeForm) {
    noticeForm.addEventListener("submit", function (e) {
      e.preventDefault();
      var body = {title: $("chat-notice-title").value, body: $("chat-notice-body").value,
                  team: $("chat-notice-team").value || null};
      if ($("chat-notice-expires").value) { body.expires_at = $("chat-notice-expires").value; }
      fsCc.sendJson("POST", root.dataset.noticesUrl, body)
        .then(function () { noticeForm.reset(); say(""); }).catch(fail);
    });
  }

  function connect(cursor) {
    var live = $("chat-live");
    var source = new EventSource(root.dataset.streamUrl + "?after=" + encodeURIComponent(cursor));
    source.addEventListener("open", function () {
      live.dataset.state = "open";
      live.textContent = "Messages: live.";
    });
    source.addEventListener("error", function () {
      var closed = source.readyState === EventSource.CLOSED;
      live.dataset.state = closed ? "closed" : "reconnecting";
      live.textContent = closed ? "Messages: stopped; reload the page." :
        "Messages: reconnecting…";
    });
    source.addEventListener("message", function (e) { onMessage(JSON.parse(e.data)); });
    source.addEventListener("notice", function (e) { banner(JSON.parse(e.data)); });
  }

  // the notices and conversations first, then the stream from the cursor they were read at
  fsCc.getJson(root.dataset.noticesUrl).then(function (data) {
    data.notices.slice().reverse().forEach(banner);
    return loadConversations();
  }).then(connect).catch(fail);
})();
