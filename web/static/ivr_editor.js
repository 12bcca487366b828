/* fs_cc: the IVR pages' script. The list (#ivr-index) shows the flows and their DIDs; the editor
   (#ivr-editor) edits a flow's YAML in CodeMirror (vendor/codemirror-*.min.js), asks the
   validator as the admin types (debounced) and shows its messages at their lines, redraws the
   flow's graph (ivr_graph.js), plays the generated prompts, lists the versions with their diff
   and restores one. Everything goes through the IVR JSON API; Save stays disabled while the
   text on screen has errors or has not been checked yet. No inline script or style (CSP). */
(function () {
  "use strict";

  var VALIDATE_DELAY_MS = 350;
  var NEW_FLOW = "name: {name}\nstart: welcome\nnodes:\n  welcome:\n    type: play\n" +
    "    text: \"Welcome\"\n    next: bye\n  bye:\n    type: hangup\n";

  function csrfToken() {
    return document.querySelector('meta[name="csrf-token"]').content;
  }

  // a JSON request of this site: resolves {status, body} whatever the status (401: notice)
  function request(method, url, body) {
    var init = {method: method, credentials: "same-origin",
                headers: {"Accept": "application/json"}};
    if (method !== "GET") { init.headers["X-CSRFToken"] = csrfToken(); }
    if (body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    return fetch(url, init).then(function (r) {
      if (r.status === 401) { fsCc.sessionExpired(); }
      return r.json().catch(function () { return {}; }).then(function (data) {
        return {status: r.status, body: data};
      });
    });
  }

  function element(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    return node;
  }

  function errorText(response) {
    return (response.body && (response.body.error || response.body.message)) ||
      "the server answered " + response.status;
  }

  // -- the list of flows ----------------------------------------------------------------------

  function startIndex(root) {
    var body = root.querySelector("tbody");
    request("GET", root.dataset.api).then(function (response) {
      if (response.status !== 200) { throw new Error(errorText(response)); }
      body.replaceChildren();
      response.body.flows.forEach(function (flow) {
        var row = element("tr", "ivr-flow");
        row.dataset.name = flow.name;
        var name = element("td"), link = element("a", null, flow.name);
        link.href = root.dataset.pages + "/" + encodeURIComponent(flow.name);
        name.appendChild(link);
        row.appendChild(name);
        [flow.version, (flow.dids || []).join(", "), flow.author, flow.updated_at, flow.source]
          .forEach(function (value) { row.appendChild(element("td", null, value)); });
        if (root.dataset.mayStats === "1") {
          var stats = element("td"), statsLink = element("a", null, "statistics");
          statsLink.href = link.href + "/stats";
          stats.appendChild(statsLink);
          row.appendChild(stats);
        }
        body.appendChild(row);
      });
      root.dataset.state = "loaded";
    }).catch(function (error) {
      root.querySelector(".ivr-load-error").textContent = "The flows cannot be listed: " +
        error.message;
    });
    var form = document.getElementById("ivr-new-flow");
    if (form) {
      form.addEventListener("submit", function (event) {
        event.preventDefault();
        var name = form.elements.name.value.trim();
        if (name) { location.href = root.dataset.pages + "/" + encodeURIComponent(name); }
      });
    }
  }

  // -- the editor -----------------------------------------------------------------------------

  function Editor(root) {
    this.root = root;
    this.name = root.dataset.name;
    this.api = root.dataset.api + "/" + encodeURIComponent(this.name);
    this.mayEdit = root.dataset.mayEdit === "1";
    this.baseVersion = null;  // the stored version the text on screen started from
    this.savedText = null;
    this.checked = null;  // {text, messages, errors} of the last validator answer shown
    this.asked = 0;  // validator requests sent (an answer to an older one is dropped)
    this.timer = null;
    this.marked = [];  // lines carrying a highlight
    this.status = root.querySelector("#ivr-status");
    this.messages = root.querySelector("#ivr-messages");
    this.graph = root.querySelector("#ivr-graph");
    this.saveButton = root.querySelector("#ivr-save");
    this.cm = CodeMirror.fromTextArea(root.querySelector("#ivr-yaml"), {
      mode: "yaml", lineNumbers: true, readOnly: !this.mayEdit, indentUnit: 2, tabSize: 2,
      gutters: ["ivr-marks", "CodeMirror-linenumbers"],
      extraKeys: {Tab: function (cm) { cm.replaceSelection("  "); }}});
    root.editor = this;  // the page's tests and console reach the editor here
    this.cm.on("change", this.changed.bind(this));
    if (this.saveButton) { this.saveButton.addEventListener("click", this.save.bind(this)); }
    root.querySelector("#ivr-compare").addEventListener("submit", function (event) {
      event.preventDefault();
      var form = event.target;
      this.showDiff(form.elements.from.value, form.elements.to.value);
    }.bind(this));
  }

  Editor.prototype.setStatus = function (text, kind) {
    this.status.textContent = text;
    this.status.className = "ivr-status " + (kind || "");
  };

  Editor.prototype.load = function () {
    return request("GET", this.api).then(function (response) {
      if (response.status === 404 && this.mayEdit) {
        this.baseVersion = null;
        this.savedText = null;
        this.cm.setValue(NEW_FLOW.replace("{name}", this.name));
        this.setStatus("A new flow: it is stored when you save it.", "new");
      } else if (response.status !== 200) {
        this.setStatus("The flow cannot be loaded: " + errorText(response), "error");
        return;
      } else {
        this.baseVersion = response.body.version;
        this.savedText = response.body.yaml;
        this.cm.setValue(response.body.yaml);
        this.setStatus("Version " + response.body.version + " by " + (response.body.author || "?") +
          ", " + (response.body.updated_at || ""), "loaded");
        this.loadVersions();
        this.loadPrompts();
      }
      this.cm.clearHistory();
      clearTimeout(this.timer);  // setValue's change asked for a check: do it once, now
      this.validateNow();
    }.bind(this));
  };

  Editor.prototype.changed = function () {
    this.updateSave();
    clearTimeout(this.timer);
    this.timer = setTimeout(this.validateNow.bind(this), VALIDATE_DELAY_MS);
  };

  Editor.prototype.validateNow = function () {
    var text = this.cm.getValue(), asked = ++this.asked;
    this.root.dataset.validating = "1";
    return request("POST", this.root.dataset.validateUrl, {name: this.name, yaml: text})
      .then(function (response) {
        if (asked !== this.asked) { return; }  // the admin typed on: a newer answer comes
        delete this.root.dataset.validating;
        if (response.status !== 200) {
          this.showMessages(text, [{line: 1, column: 1, severity: "error",
                                    message: "The validator cannot check it: " + errorText(response)}]);
          return;
        }
        this.showMessages(text, response.body.messages || []);
        this.drawGraph(response.body.graph);
      }.bind(this));
  };

  Editor.prototype.showMessages = function (text, messages) {
    var cm = this.cm;
    this.marked.forEach(function (line) {
      cm.removeLineClass(line, "background");
    });
    cm.clearGutter("ivr-marks");
    this.marked = [];
    this.messages.replaceChildren();
    var errors = 0;
    messages.forEach(function (m) {
      if (m.severity === "error") { errors += 1; }
      var line = Math.max(0, Math.min((m.line || 1) - 1, cm.lineCount() - 1));
      cm.addLineClass(line, "background", "ivr-line-" + m.severity);
      this.marked.push(line);
      var mark = element("span", "ivr-mark ivr-mark-" + m.severity, m.severity === "error" ? "●" : "▲");
      mark.title = m.message;
      cm.setGutterMarker(line, "ivr-marks", mark);
      var item = element("li", "ivr-message " + m.severity);
      item.dataset.line = m.line || "";
      item.dataset.column = m.column || "";
      var where = element("a", "ivr-where", "line " + (m.line || "?") +
                          (m.column ? ", column " + m.column : ""));
      where.href = "#";
      where.addEventListener("click", function (event) {
        event.preventDefault();
        cm.focus();
        cm.setCursor({line: line, ch: Math.max(0, (m.column || 1) - 1)});
      });
      item.appendChild(where);
      item.appendChild(element("span", "ivr-severity", m.severity));
      item.appendChild(element("span", "ivr-text", m.message));
      this.messages.appendChild(item);
    }, this);
    if (!messages.length) {
      this.messages.appendChild(element("li", "ivr-message ok", "No problem found."));
    }
    this.checked = {text: text, messages: messages, errors: errors};
    this.root.dataset.errors = String(errors);
    this.updateSave();
  };

  Editor.prototype.drawGraph = function (graph) {
    if (!graph) {
      this.graph.classList.add("stale");  // the YAML does not parse: keep the last drawing
      return;
    }
    this.graph.classList.remove("stale");
    var cm = this.cm;
    ivrGraph.draw(this.graph, graph, {onNodeClick: function (node) {
      cm.focus();
      cm.setCursor({line: node.line - 1, ch: 0});
    }});
  };

  // Save: only for the text the validator passed, and only when it differs from the stored one
  Editor.prototype.updateSave = function () {
    if (!this.saveButton) { return; }
    var text = this.cm.getValue(), checked = this.checked;
    var ready = checked !== null && checked.text === text && checked.errors === 0 &&
      text !== this.savedText;
    this.saveButton.disabled = !ready;
    this.saveButton.title = ready ? "" : checked && checked.errors ?
      "Fix the errors first" : text === this.savedText ? "Nothing changed" : "Being checked";
  };

  Editor.prototype.save = function () {
    var text = this.cm.getValue();
    var comment = this.root.querySelector("#ivr-comment").value;
    this.saveButton.disabled = true;
    request("PUT", this.api, {yaml: text, comment: comment, base_version: this.baseVersion})
      .then(function (response) {
        if (response.status === 200) {
          this.baseVersion = response.body.version;
          this.savedText = text;
          this.root.querySelector("#ivr-comment").value = "";
          this.setStatus("Saved as version " + response.body.version + ".", "saved");
          this.loadVersions();
          this.loadPrompts();
        } else if (response.status === 422) {
          this.showMessages(text, response.body.messages || []);
          this.setStatus("Not saved: the server refused the flow (see the messages).", "error");
        } else if (response.status === 409) {
          this.setStatus("Not saved: someone saved another version meanwhile (" +
            errorText(response) + "). Reload the page to see it.", "error");
        } else {
          this.setStatus("Not saved: " + errorText(response), "error");
        }
        this.updateSave();
      }.bind(this));
  };

  Editor.prototype.loadPrompts = function () {
    var list = this.root.querySelector("#ivr-prompts");
    request("GET", this.api + "/prompts").then(function (response) {
      list.replaceChildren();
      if (response.status !== 200) {
        list.appendChild(element("li", "error", "The prompts cannot be listed: " + errorText(response)));
        return;
      }
      response.body.forEach(function (prompt) {
        var item = element("li", "ivr-prompt");
        item.dataset.node = prompt.node;
        item.appendChild(element("span", "ivr-prompt-node", prompt.node));
        item.appendChild(element("span", "ivr-prompt-language", prompt.language));
        item.appendChild(element("q", "ivr-prompt-text", prompt.text));
        var audio = element("audio");
        audio.controls = true;
        audio.preload = "none";
        audio.src = prompt.url;
        item.appendChild(audio);
        list.appendChild(item);
      });
      if (!response.body.length) { list.appendChild(element("li", null, "No spoken prompt.")); }
    });
  };

  Editor.prototype.loadVersions = function () {
    var body = this.root.querySelector("#ivr-versions tbody");
    var form = this.root.querySelector("#ivr-compare");
    request("GET", this.api + "/versions").then(function (response) {
      if (response.status !== 200) { return; }
      var versions = response.body.versions;
      body.replaceChildren();
      [form.elements.from, form.elements.to].forEach(function (select) { select.replaceChildren(); });
      versions.forEach(function (v, index) {
        body.appendChild(this.versionRow(v, versions[index + 1]));
        [form.elements.from, form.elements.to].forEach(function (select) {
          var option = element("option", null, "version " + v.version);
          option.value = v.version;
          select.appendChild(option);
        });
      }, this);
      // newest first: compare the one before the newest with the newest
      if (versions.length > 1) { form.elements.from.value = versions[1].version; }
      if (versions.length) { form.elements.to.value = versions[0].version; }
      this.root.dataset.versions = String(versions.length);
    }.bind(this));
  };

  // one row of the history; ``older``: the version before it (its diff), if any
  Editor.prototype.versionRow = function (v, older) {
    var row = element("tr", "ivr-version");
    row.dataset.version = v.version;
    [v.version, v.author, v.created_at,
     (v.comment || "") + (v.restored_from ? " (restored from version " + v.restored_from + ")" : "")]
      .forEach(function (value) { row.appendChild(element("td", null, value)); });
    var actions = element("td", "ivr-version-actions");
    if (older) {
      var diff = element("button", "ivr-diff-button", "diff");
      diff.type = "button";
      diff.addEventListener("click", this.showDiff.bind(this, older.version, v.version));
      actions.appendChild(diff);
    }
    if (this.mayEdit && v.version !== this.baseVersion) {
      var restore = element("button", "ivr-restore-button", "restore");
      restore.type = "button";
      restore.addEventListener("click", this.restore.bind(this, v.version));
      actions.appendChild(restore);
    }
    row.appendChild(actions);
    return row;
  };

  Editor.prototype.showDiff = function (from, to) {
    var panel = this.root.querySelector("#ivr-diff");
    var url = this.api + "/diff?from=" + encodeURIComponent(from) + "&to=" + encodeURIComponent(to);
    request("GET", url).then(function (response) {
      panel.replaceChildren();
      panel.dataset.from = from;
      panel.dataset.to = to;
      if (response.status !== 200) {
        panel.appendChild(element("p", "error", "No diff: " + errorText(response)));
        return;
      }
      panel.appendChild(element("h3", null, "From version " + from + " to version " + to));
      var pre = element("pre", "ivr-diff-text");
      var lines = response.body.diff ? response.body.diff.replace(/\n$/, "").split("\n") : [];
      lines.forEach(function (line) {
        var kind = /^(\+\+\+|---)/.test(line) ? "meta" : line[0] === "+" ? "add" :
          line[0] === "-" ? "del" : line.indexOf("@@") === 0 ? "hunk" : "same";
        pre.appendChild(element("span", "diff-line diff-" + kind, line + "\n"));
      });
      if (!lines.length) { pre.appendChild(element("span", "diff-line diff-same", "(no change)\n")); }
      panel.appendChild(pre);
    });
  };

  Editor.prototype.restore = function (version) {
    var url = this.api + "/versions/" + encodeURIComponent(version) + "/restore";
    request("POST", url).then(function (response) {
      if (response.status === 200) {
        var note = "Version " + version + " restored as version " + response.body.version + ".";
        this.load().then(function () { this.setStatus(note, "saved"); }.bind(this));
      } else if (response.status === 422) {
        // its messages are about that version's text, not the one on screen: told, not marked
        this.setStatus("Version " + version + " cannot be restored today: " +
                       errorText(response), "error");
      } else {
        this.setStatus("Not restored: " + errorText(response), "error");
      }
    }.bind(this));
  };

  document.addEventListener("DOMContentLoaded", function () {
    var index = document.getElementById("ivr-index");
    if (index) { startIndex(index); }
    var root = document.getElementById("ivr-editor");
    if (root) { new Editor(root).load(); }
  });
})();
