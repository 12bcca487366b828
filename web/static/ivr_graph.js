/* fs_cc: an IVR flow drawn as SVG (nodes, DTMF edges labelled with their key, exits), laid out
   by dagre (vendor/dagre-*.min.js), optionally with each node's statistics as a badge and a
   drop-off colour. SVG elements and classes only: no inline style, so it runs under the
   Content-Security-Policy "style-src 'self'". Also starts the statistics page's graph. */
var ivrGraph = (function () {
  "use strict";

  var SVG = "http://www.w3.org/2000/svg";
  var NODE_HEIGHT = 40, PAD = 16, EDGE_LABEL_HEIGHT = 14;

  function el(name, attrs, text) {
    var node = document.createElementNS(SVG, name);
    Object.keys(attrs || {}).forEach(function (key) { node.setAttribute(key, attrs[key]); });
    if (text !== undefined) { node.textContent = text; }
    return node;
  }

  // width of a label in px, wide characters (Chinese) counted twice: layout needs it up front
  function textWidth(text, px) {
    var units = 0;
    for (var i = 0; i < text.length; i += 1) { units += text.charCodeAt(i) > 0x2e80 ? 2 : 1; }
    return units * px;
  }

  // "hangups/visits" as a class: how many callers gave up at the node
  function dropClass(stats) {
    if (!stats || !stats.visits) { return "drop-none"; }
    var rate = stats.hangups / stats.visits;
    return rate >= 0.3 ? "drop-high" : rate >= 0.1 ? "drop-mid" : "drop-low";
  }

  function statsTitle(stats) {
    var keys = Object.keys(stats.choices || {}).map(function (k) {
      return k + ": " + stats.choices[k];
    }).join(", ");
    return stats.visits + " visits, " + stats.hangups + " hang-ups, " + stats.timeouts +
      " timeouts, " + stats.invalid + " invalid, " + stats.self_service + " self-service, " +
      stats.queued + " to queues" + (keys ? "; keys " + keys : "") +
      (stats.avg_seconds !== null ? "; " + stats.avg_seconds + " s on average" : "");
  }

  // the graph's nodes plus a "missing" node for each edge target nobody defines
  function allNodes(graph) {
    var known = {}, nodes = graph.nodes.slice();
    nodes.forEach(function (n) { known[n.id] = true; });
    graph.edges.forEach(function (e) {
      if (!known[e.to]) { known[e.to] = true; nodes.push({id: e.to, type: "missing", label: "", line: null}); }
    });
    return nodes;
  }

  function layout(graph) {
    var g = new dagre.graphlib.Graph({multigraph: true});
    g.setGraph({rankdir: "TB", nodesep: 24, ranksep: 46, edgesep: 12, marginx: 8, marginy: 8});
    allNodes(graph).forEach(function (n) {
      var width = Math.max(textWidth(n.id, 8), textWidth(n.type || "", 7)) + 2 * PAD;
      g.setNode(n.id, {width: Math.max(90, width), height: NODE_HEIGHT, data: n});
    });
    graph.edges.forEach(function (e, i) {
      var label = e.label || "";
      g.setEdge(e.from, e.to, {label: label, width: label ? textWidth(label, 7) + 6 : 0,
                               height: label ? EDGE_LABEL_HEIGHT : 0, labelpos: "c", data: e},
                "e" + i);
    });
    dagre.layout(g);
    return g;
  }

  function drawEdge(svg, g, ref) {
    var edge = g.edge(ref), data = edge.data;
    var group = el("g", {"class": "ivr-edge", "data-from": data.from, "data-to": data.to,
                         "data-label": data.label || ""});
    var d = edge.points.map(function (p, i) { return (i ? "L" : "M") + p.x + "," + p.y; }).join(" ");
    group.appendChild(el("path", {d: d, "marker-end": "url(#ivr-arrow)"}));
    if (data.label) {
      group.appendChild(el("rect", {"class": "ivr-edge-label-bg", x: edge.x - edge.width / 2,
        y: edge.y - EDGE_LABEL_HEIGHT / 2, width: edge.width, height: EDGE_LABEL_HEIGHT, rx: 3}));
      group.appendChild(el("text", {"class": "ivr-edge-label", x: edge.x, y: edge.y + 4},
                           data.label));
    }
    svg.appendChild(group);
  }

  function drawNode(svg, g, id, start, nodeStats, onNodeClick) {
    var box = g.node(id), data = box.data, stats = nodeStats[id];
    var classes = ["ivr-node", "type-" + (data.type || "unknown")];
    if (id === start) { classes.push("start"); }
    if (nodeStats.__shown) { classes.push(dropClass(stats)); }
    var group = el("g", {"class": classes.join(" "), "data-id": id, "data-type": data.type || "",
      "data-line": data.line || "", transform: "translate(" + (box.x - box.width / 2) + "," +
      (box.y - box.height / 2) + ")"});
    group.appendChild(el("title", {}, (data.label || id) + (stats ? "\n" + statsTitle(stats) : "")));
    group.appendChild(el("rect", {width: box.width, height: box.height, rx: 8}));
    group.appendChild(el("text", {"class": "ivr-node-id", x: box.width / 2, y: 17}, id));
    group.appendChild(el("text", {"class": "ivr-node-type", x: box.width / 2, y: 32},
                         data.type === "missing" ? "missing!" : data.type || ""));
    if (nodeStats.__shown) {
      var badge = el("g", {"class": "ivr-badge", transform: "translate(" + (box.width - 12) + ",-8)"});
      var visits = stats ? String(stats.visits) : "0";
      badge.appendChild(el("rect", {x: -4, y: 0, width: textWidth(visits, 7) + 8, height: 16, rx: 8}));
      badge.appendChild(el("text", {x: textWidth(visits, 7) / 2, y: 12}, visits));
      group.appendChild(badge);
    }
    if (onNodeClick && data.line) {
      group.classList.add("clickable");
      group.addEventListener("click", function () { onNodeClick(data); });
    }
    svg.appendChild(group);
  }

  // draw ``graph`` ({nodes, edges, start}) into ``container`` (replacing what it held);
  // ``options.stats``: the stats API's answer; ``options.onNodeClick(node)``
  function draw(container, graph, options) {
    options = options || {};
    var nodeStats = {__shown: !!options.stats};
    ((options.stats && options.stats.nodes) || []).forEach(function (s) { nodeStats[s.node] = s; });
    var g = layout(graph), size = g.graph();
    var svg = el("svg", {"class": "ivr-graph", viewBox: "0 0 " + Math.ceil(size.width) + " " +
      Math.ceil(size.height + 10), width: Math.ceil(size.width), height: Math.ceil(size.height + 10),
      role: "img", "aria-label": "the flow's graph"});
    var defs = el("defs"), marker = el("marker", {id: "ivr-arrow", viewBox: "0 0 10 10", refX: 9,
      refY: 5, markerWidth: 7, markerHeight: 7, orient: "auto-start-reverse"});
    marker.appendChild(el("path", {d: "M0,0 L10,5 L0,10 z", "class": "ivr-arrow"}));
    defs.appendChild(marker);
    svg.appendChild(defs);
    g.edges().forEach(function (ref) { drawEdge(svg, g, ref); });
    g.nodes().forEach(function (id) { drawNode(svg, g, id, graph.start, nodeStats, options.onNodeClick); });
    container.replaceChildren(svg);
    return svg;
  }

  // the statistics page: the flow's graph (from the validator) with the period's figures
  function startStatsPage(root) {
    var headers = {"Content-Type": "application/json", "Accept": "application/json",
                   "X-CSRFToken": document.querySelector('meta[name="csrf-token"]').content};
    var flow = fetch(root.dataset.flowUrl, {credentials: "same-origin"}).then(function (r) {
      if (!r.ok) { throw new Error("the flow answered " + r.status); }
      return r.json();
    }).then(function (data) {
      return fetch(root.dataset.validateUrl, {method: "POST", credentials: "same-origin",
        headers: headers, body: JSON.stringify({name: root.dataset.name, yaml: data.yaml})});
    }).then(function (r) { return r.json(); });
    var stats = fetch(root.dataset.statsUrl, {credentials: "same-origin"}).then(function (r) {
      return r.json();
    });
    Promise.all([flow, stats]).then(function (both) {
      if (!both[0].graph) { throw new Error("the stored flow cannot be read"); }
      draw(root, both[0].graph, {stats: both[1]});
      root.dataset.state = "drawn";
    }).catch(function (error) {
      root.textContent = "The graph cannot be drawn: " + error.message;
      root.dataset.state = "failed";
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var root = document.getElementById("ivr-stats-graph");
    if (root) { startStatsPage(root); }
  });

  return {draw: draw, dropClass: dropClass};
})();
