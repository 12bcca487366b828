/* The browser softphone (web/templates/desktop/_softphone.html): the agent's own phone over SIP
   on a secure WebSocket to FreeSWITCH's internal profile, with SIP.js (pinned, fetched by ./dev:
   web/desktop/sip_library.py). It registers with the agent's credentials
   (GET /api/desktop/softphone), rings with a tone made by WebAudio, answers by hand or by itself
   (auto-answer, remembered in localStorage), mutes, picks the microphone and the speaker, and
   warns when the call's packet loss, jitter or round trip go over their thresholds.
   On the emulator the partial says the phone is simulated and this script does nothing.
   The root element's data-registration and data-call attributes say the state (for tests). */
(function () {
  "use strict";
  var root = document.getElementById("softphone");
  if (!root || root.dataset.mode !== "softphone") { return; }
  var $ = function (id) { return document.getElementById(id); };
  var STORE = "fs_cc.softphone.";
  var QUALITY_EVERY_MS = 2000;
  // over any of these during a call the agent is warned (the caller hears the same trouble)
  var LIMITS = {loss: 0.05, jitter: 0.03, rtt: 0.3};  // fraction; seconds; seconds
  var RETRY_MS = 5000;

  var SIP = null, ua = null, registerer = null, session = null;
  var muted = false, ringer = null, qualityTimer = null, last = null, stopped = false;
  var audio = $("softphone-audio");

  function remember(key, value) {
    try { window.localStorage.setItem(STORE + key, value); } catch (e) { /* private mode */ }
  }
  function recall(key) {
    try { return window.localStorage.getItem(STORE + key); } catch (e) { return null; }
  }

  function setRegistration(state, text) {
    root.dataset.registration = state;
    var span = $("softphone-registration");
    span.textContent = text || state;
    span.className = "status softphone-" + state;
  }
  function setCall(state, text) {
    root.dataset.call = state;
    $("softphone-call").textContent = text || "";
    $("softphone-answer").hidden = state !== "ringing";
    $("softphone-hangup").hidden = state !== "ringing" && state !== "connected";
    $("softphone-mute").hidden = state !== "connected";
  }
  function warn(text) {
    var p = $("softphone-quality");
    p.textContent = text || "";
    p.hidden = !text;
    root.dataset.quality = text ? "poor" : "ok";
  }

  // --- ring tone: 440 + 480 Hz, 2 s on and 4 s off, on the chosen speaker where it can
  function Ringer() {
    var Context = window.AudioContext || window.webkitAudioContext;
    this.ctx = Context ? new Context() : null;
    this.timer = null;
    this.nodes = [];
  }
  Ringer.prototype.start = function (sinkId) {
    var self = this;
    if (!self.ctx) { return; }
    if (sinkId && self.ctx.setSinkId) { self.ctx.setSinkId(sinkId).catch(function () {}); }
    if (self.ctx.resume) { self.ctx.resume().catch(function () {}); }
    var burst = function () {
      var gain = self.ctx.createGain();
      gain.gain.value = 0.1;
      gain.connect(self.ctx.destination);
      [440, 480].forEach(function (hz) {
        var osc = self.ctx.createOscillator();
        osc.frequency.value = hz;
        osc.connect(gain);
        osc.start();
        osc.stop(self.ctx.currentTime + 2);
        self.nodes.push(osc);
      });
    };
    burst();
    self.timer = window.setInterval(burst, 6000);
  };
  Ringer.prototype.stop = function () {
    window.clearInterval(this.timer);
    this.timer = null;
    this.nodes.forEach(function (osc) { try { osc.stop(); } catch (e) { /* ended */ } });
    this.nodes = [];
  };

  // --- devices
  function fillDevices() {
    if (!navigator.mediaDevices || !navigator.mediaDevices.enumerateDevices) { return; }
    navigator.mediaDevices.enumerateDevices().then(function (devices) {
      fill($("softphone-mic"), devices, "audioinput", "mic");
      var speaker = $("softphone-speaker");
      if (typeof audio.setSinkId !== "function") {
        speaker.disabled = true;
        speaker.title = "this browser cannot choose the speaker";
        return;
      }
      fill(speaker, devices, "audiooutput", "speaker");
    });
  }
  function fill(select, devices, kind, key) {
    var chosen = select.value || recall(key) || "";
    select.textContent = "";
    var def = document.createElement("option");
    def.value = "";
    def.textContent = "default";
    select.appendChild(def);
    devices.filter(function (d) { return d.kind === kind && d.deviceId !== "default"; })
      .forEach(function (d, i) {
        var option = document.createElement("option");
        option.value = d.deviceId;
        option.textContent = d.label || (kind === "audioinput" ? "microphone " : "speaker ") + (i + 1);
        select.appendChild(option);
      });
    select.value = chosen;
    if (select.value !== chosen) { select.value = ""; }
  }
  function micConstraints() {
    var id = $("softphone-mic").value;
    return {audio: id ? {deviceId: {exact: id}} : true, video: false};
  }
  function applySpeaker() {
    var id = $("softphone-speaker").value;
    if (typeof audio.setSinkId === "function") {
      audio.setSinkId(id).catch(function (e) { warn("speaker: " + e.message); });
    }
  }

  function peer() {
    var sdh = session && session.sessionDescriptionHandler;
    return sdh ? sdh.peerConnection : null;
  }
  function switchMic() {
    remember("mic", $("softphone-mic").value);
    var pc = peer();
    if (!pc) { return; }
    navigator.mediaDevices.getUserMedia(micConstraints()).then(function (stream) {
      var track = stream.getAudioTracks()[0];
      track.enabled = !muted;
      pc.getSenders().forEach(function (sender) {
        if (sender.track && sender.track.kind === "audio") {
          var old = sender.track;
          sender.replaceTrack(track).then(function () { old.stop(); });
        }
      });
    }).catch(function (e) { warn("microphone: " + e.message); });
  }

  // --- call quality, from the peer connection's statistics
  function checkQuality() {
    var pc = peer();
    if (!pc) { return; }
    pc.getStats().then(function (report) {
      var now = {lost: 0, received: 0, jitter: 0, rtt: null};
      report.forEach(function (s) {
        if (s.type === "inbound-rtp" && s.kind === "audio") {
          now.lost += s.packetsLost || 0;
          now.received += s.packetsReceived || 0;
          now.jitter = Math.max(now.jitter, s.jitter || 0);
        } else if (s.type === "remote-inbound-rtp" && s.kind === "audio" && s.roundTripTime) {
          now.rtt = s.roundTripTime;
        } else if (s.type === "candidate-pair" && s.nominated && s.currentRoundTripTime
                   && now.rtt === null) {
          now.rtt = s.currentRoundTripTime;
        }
      });
      var problems = [];
      if (last) {
        var lost = now.lost - last.lost, got = now.received - last.received;
        if (lost > 0 && lost / (lost + got) > LIMITS.loss) {
          problems.push("packet loss " + Math.round(100 * lost / (lost + got)) + "%");
        }
      }
      if (now.jitter > LIMITS.jitter) { problems.push("jitter " + Math.round(now.jitter * 1000) + " ms"); }
      if (now.rtt !== null && now.rtt > LIMITS.rtt) { problems.push("delay " + Math.round(now.rtt * 1000) + " ms"); }
      last = now;
      warn(problems.length ? "Poor call quality: " + problems.join(", ") : "");
    }).catch(function () { /* the call ended meanwhile */ });
  }

  // --- calls
  function stopRinging() { if (ringer) { ringer.stop(); } }
  function ended() {
    stopRinging();
    window.clearInterval(qualityTimer);
    qualityTimer = null;
    last = null;
    session = null;
    muted = false;
    $("softphone-mute").textContent = "Mute";
    audio.srcObject = null;
    warn("");
    setCall("idle", "");
  }
  function connected() {
    stopRinging();
    var sdh = session.sessionDescriptionHandler;
    if (sdh && sdh.remoteMediaStream) {
      audio.srcObject = sdh.remoteMediaStream;
      applySpeaker();
      audio.play().catch(function () { /* autoplay refused until the agent clicks */ });
    }
    setCall("connected", "Connected: " + caller(session));
    qualityTimer = window.setInterval(checkQuality, QUALITY_EVERY_MS);
  }
  function caller(invitation) {
    var identity = invitation.remoteIdentity;
    if (!identity) { return "unknown"; }
    var number = identity.uri ? identity.uri.user : "";
    return identity.displayName && identity.displayName !== number
      ? identity.displayName + " <" + number + ">" : number || "unknown";
  }
  function answer() {
    if (!session || root.dataset.call !== "ringing") { return; }
    stopRinging();
    setCall("answering", "Answering…");
    session.accept({sessionDescriptionHandlerOptions: {constraints: micConstraints()}})
      .catch(function (e) { warn("cannot answer: " + e.message); });
  }
  function hangup() {
    if (!session) { return; }
    var S = SIP.SessionState;
    if (session.state === S.Established) {
      session.bye();
    } else if (session.state === S.Initial || session.state === S.Establishing) {
      session.reject();
    }
  }
  function onInvite(invitation) {
    if (session) {  // one call at a time: the agent is busy
      invitation.reject({statusCode: 486});
      return;
    }
    session = invitation;
    invitation.stateChange.addListener(function (state) {
      if (invitation !== session) { return; }
      if (state === SIP.SessionState.Established) { connected(); }
      if (state === SIP.SessionState.Terminated) { ended(); }
    });
    setCall("ringing", "Incoming call: " + caller(invitation));
    // offers come from the switch (the ACD, a transfer): auto-answer takes them all
    if ($("softphone-auto-answer").checked) {
      answer();
      return;
    }
    if (!ringer) { ringer = new Ringer(); }
    ringer.start($("softphone-speaker").value);
  }
  function toggleMute() {
    var pc = peer();
    if (!pc) { return; }
    muted = !muted;
    pc.getSenders().forEach(function (sender) {
      if (sender.track && sender.track.kind === "audio") { sender.track.enabled = !muted; }
    });
    $("softphone-mute").textContent = muted ? "Unmute" : "Mute";
    $("softphone-mute").setAttribute("aria-pressed", muted ? "true" : "false");
  }

  // --- registration
  function register() {
    if (stopped) { return; }
    setRegistration("registering", "registering…");
    registerer.register().catch(function (e) {
      setRegistration("failed", "not registered: " + e.message);
    });
  }
  function retry() {
    if (stopped) { return; }
    window.setTimeout(function () {
      if (stopped || ua.isConnected()) { return; }
      ua.reconnect().then(register).catch(retry);
    }, RETRY_MS);
  }
  function start(cfg) {
    var uri = SIP.UserAgent.makeURI(cfg.uri);
    ua = new SIP.UserAgent({
      uri: uri,
      authorizationUsername: cfg.username,
      authorizationPassword: cfg.password,
      displayName: cfg.display_name,
      transportOptions: {server: cfg.wss_url},
      logLevel: "warn",
      sessionDescriptionHandlerFactoryOptions: {
        peerConnectionConfiguration: {iceServers: cfg.ice_servers || []},
        iceGatheringTimeout: cfg.ice_gathering_timeout_ms || 1000
      },
      delegate: {
        onInvite: onInvite,
        onDisconnect: function (error) {
          if (stopped) { return; }
          setRegistration("failed", "disconnected" + (error ? ": " + error.message : ""));
          retry();
        }
      }
    });
    registerer = new SIP.Registerer(ua, {expires: cfg.expires || 300});
    registerer.stateChange.addListener(function (state) {
      var S = SIP.RegistererState;
      if (state === S.Registered) { setRegistration("registered", "registered as " + cfg.username); }
      if (state === S.Unregistered && !stopped) { setRegistration("failed", "not registered"); }
      if (state === S.Unregistered && stopped) { setRegistration("stopped", "signed out"); }
    });
    setRegistration("connecting", "connecting…");
    return ua.start().then(register).catch(function (e) {
      setRegistration("failed", "cannot reach the switch: " + e.message);
      retry();
    });
  }
  function stop() {
    stopped = true;
    if (!ua) { return Promise.resolve(); }
    if (session) { hangup(); }
    var done = registerer && registerer.state === SIP.RegistererState.Registered
      ? registerer.unregister().catch(function () {}) : Promise.resolve();
    return done.then(function () { return ua.stop(); }).then(function () {
      setRegistration("stopped", "signed out");
    });
  }

  function loadConfig() {
    return fetch(root.dataset.configUrl, {credentials: "same-origin",
                                          headers: {"Accept": "application/json"}})
      .then(function (r) {
        return r.json().then(function (data) {
          if (!r.ok) { throw new Error(data.error || ("answered " + r.status)); }
          return data;
        });
      });
  }

  // --- wiring
  var auto = $("softphone-auto-answer");
  auto.checked = recall("auto_answer") === "true";
  auto.addEventListener("change", function () { remember("auto_answer", auto.checked ? "true" : "false"); });
  $("softphone-answer").addEventListener("click", answer);
  $("softphone-hangup").addEventListener("click", hangup);
  $("softphone-mute").addEventListener("click", toggleMute);
  $("softphone-mic").addEventListener("change", switchMic);
  $("softphone-speaker").addEventListener("change", function () {
    remember("speaker", $("softphone-speaker").value);
    applySpeaker();
  });
  if (navigator.mediaDevices && navigator.mediaDevices.addEventListener) {
    navigator.mediaDevices.addEventListener("devicechange", fillDevices);
  }
  window.addEventListener("pagehide", function () { if (!stopped) { stop(); } });
  // the call's RTP so far (for tests and support): packets sent and received
  function stats() {
    var pc = peer();
    if (!pc) { return Promise.resolve(null); }
    return pc.getStats().then(function (report) {
      var out = {sent: 0, received: 0};
      report.forEach(function (s) {
        if (s.kind !== "audio") { return; }
        if (s.type === "outbound-rtp") { out.sent += s.packetsSent || 0; }
        if (s.type === "inbound-rtp") { out.received += s.packetsReceived || 0; }
      });
      return out;
    });
  }
  root.fsCcSoftphone = {stop: stop, answer: answer, hangup: hangup, stats: stats};
  setCall("idle", "");
  warn("");
  fillDevices();
  setRegistration("loading", "loading…");
  Promise.all([import(root.dataset.library), loadConfig()]).then(function (loaded) {
    SIP = loaded[0];
    // ask for the microphone once, so the devices have names and a call answers at once
    var ask = navigator.mediaDevices && navigator.mediaDevices.getUserMedia
      ? navigator.mediaDevices.getUserMedia({audio: true, video: false}).then(function (stream) {
          stream.getTracks().forEach(function (t) { t.stop(); });
          fillDevices();
        }).catch(function (e) { warn("no microphone: " + e.message); })
      : Promise.resolve(warn("this browser gives no microphone (the page must be served over HTTPS)"));
    return ask.then(function () { return start(loaded[1]); });
  }).catch(function (e) {
    setRegistration("failed", "softphone unavailable: " + e.message);
  });
})();
