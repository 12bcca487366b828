"""An IVR flow: load a YAML file, check it, and hold its nodes.

File format (one flow a file)::

    name: main                 # optional, defaults to the file name
    language: en               # optional: what text prompts are spoken in (en, zh)
    start: welcome             # the first node
    nodes:
      welcome: {type: play, prompt: ivr/ivr-welcome_to_freeswitch.wav, next: menu}
      menu:
        type: menu
        prompt: ivr/ivr-please_choose_from_the_following.wav
        options: {1: sales, 2: support}
        default: support       # after max_attempts with no (valid) key
      sales: {type: queue, queue: sales}
      support: {type: queue, queue: support}
"""

import dataclasses
import logging
import os
import typing

from fs_cc.errors import ConfigError
from fs_cc.ivr.nodes import DEFAULT_LANGUAGE, LANGUAGES, NODE_ID_RE, NODE_TYPES, Fields, Node
from fs_cc.ivr.yamlmarks import load_yaml

logger = logging.getLogger(__name__)

TOP_LEVEL_FIELDS = ("name", "description", "language", "start", "nodes")
# the node types that name a queue (their fields queue, queue_line)
QUEUE_NODE_TYPES = ("queue", "callback", "voicemail")
# the node types that run another flow (their field flow; None for a transfer elsewhere)
FLOW_NODE_TYPES = ("transfer", "subflow")


@dataclasses.dataclass
class Flow:
    """A checked IVR flow: its nodes by id, the start node, and the warnings found while loading."""

    name: str
    start: str
    nodes: typing.Dict[str, Node]
    source: str = ""
    description: str = ""
    warnings: typing.List[str] = dataclasses.field(default_factory=list)
    language: str = DEFAULT_LANGUAGE  # what text prompts are spoken in, unless a node says
    speech: typing.Any = None  # fs_cc.ivr.speech.FlowSpeech, once its texts are spoken

    def node(self, node_id):
        """The node called ``node_id``."""
        return self.nodes[node_id]

    def queues(self):
        """Names of the queues this flow can send callers to."""
        return sorted({n.queue for n in self.nodes.values()
                       if n.type_name in QUEUE_NODE_TYPES and n.queue})

    def flows_called(self):
        """Names of the flows this flow's transfer and subflow nodes run (their ``flow``)."""
        return sorted({n.flow for n in self.nodes.values()
                       if n.type_name in FLOW_NODE_TYPES and n.flow})


def parse_flow(text, source="<flow>", queues=None):
    """Parse and check flow YAML ``text``; ``queues`` (if given) are the queue names that exist."""
    data = load_yaml(text, source)
    if not isinstance(data, dict):
        raise ConfigError("a flow file must be a mapping with 'start' and 'nodes'", source,
                          getattr(data, "line", 1))
    for key in data:
        if key not in TOP_LEVEL_FIELDS:
            raise ConfigError(f"unknown top-level field '{key}' (expected: "
                              f"{', '.join(TOP_LEVEL_FIELDS)})", source, data.key_line_of(key))
    default_name = os.path.splitext(os.path.basename(source))[0]
    name = data.get("name") or default_name
    if not isinstance(name, str):
        raise ConfigError("'name' must be a text", source, data.line_of("name"))
    language = data.get("language", DEFAULT_LANGUAGE)
    if language not in LANGUAGES:
        raise ConfigError(f"unknown language {language!r} (languages: {', '.join(LANGUAGES)})",
                          source, data.line_of("language"))
    start = data.get("start")
    if not isinstance(start, str) or not start:
        raise ConfigError("missing required field 'start' (the id of the first node)", source,
                          data.line_of("start"))
    raw_nodes = data.get("nodes")
    if not isinstance(raw_nodes, dict) or not raw_nodes:
        raise ConfigError("'nodes' must map node ids to nodes", source, data.line_of("nodes"))
    nodes = {}
    for node_id, raw in raw_nodes.items():
        nodes[str(node_id)] = _parse_node(str(node_id), raw, raw_nodes.key_line_of(node_id), source)
    flow = Flow(name, start, nodes, source, str(data.get("description") or ""),
                language=language)
    _check_graph(flow, data.line_of("start"), queues)
    return flow


def _parse_node(node_id, raw, line, source):
    if not NODE_ID_RE.match(node_id):
        raise ConfigError(f"node id '{node_id}' may hold only letters, digits, _, - and .",
                          source, line)
    if not isinstance(raw, dict):
        raise ConfigError(f"node '{node_id}' must be a mapping with a 'type'", source, line)
    type_name = raw.get("type")
    if type_name is None:
        raise ConfigError(f"node '{node_id}' is missing required field 'type' (one of: "
                          f"{', '.join(sorted(NODE_TYPES))})", source, line)
    cls = NODE_TYPES.get(type_name)
    if cls is None:
        raise ConfigError(f"node '{node_id}' has unknown node type {type_name!r} (known: "
                          f"{', '.join(sorted(NODE_TYPES))})", source, raw.line_of("type"))
    fields = Fields(raw, node_id, type_name, source, line)
    node = cls.parse(node_id, fields)
    fields.finish()
    return node


def _check_graph(flow, start_line, queues):
    source = flow.source
    if flow.start not in flow.nodes:
        raise ConfigError(f"start node '{flow.start}' is not defined", source, start_line)
    for node in flow.nodes.values():
        for target in node.targets():
            if target.node_id not in flow.nodes:
                raise ConfigError(f"node '{node.id}' {target.label} goes to unknown node "
                                  f"'{target.node_id}'", source, target.line)
            if target.node_id == node.id and node.type_name != "menu":
                raise ConfigError(f"node '{node.id}' {target.label} goes to itself", source,
                                  target.line)
    if queues is not None:
        check_queues(flow, queues)
    _check_loops(flow)
    reached = _reachable(flow, flow.start)
    for node in flow.nodes.values():
        if node.id not in reached:
            flow.warnings.append(f"{source}:{node.line}: node '{node.id}' can never be reached "
                                 f"from the start node '{flow.start}'")


def check_queues(flow, queues):
    """Raise ConfigError (file:line) at the first node naming a queue not in ``queues``: a queue
    node sending callers there, or a condition reading its figures."""
    known = ", ".join(sorted(queues)) or "none"
    for node in flow.nodes.values():
        if node.type_name in QUEUE_NODE_TYPES and node.queue and node.queue not in queues:
            raise ConfigError(f"node '{node.id}' sends callers to unknown queue '{node.queue}' "
                              f"(queues: {known})", flow.source, node.queue_line)
        for queue in getattr(node, "queues", lambda: ())():
            if queue not in queues:
                raise ConfigError(f"node '{node.id}' reads the figures of unknown queue "
                                  f"'{queue}' (queues: {known})", flow.source, node.line)


def _reachable(flow, start):
    seen, todo = set(), [start]
    while todo:
        node_id = todo.pop()
        if node_id in seen:
            continue
        seen.add(node_id)
        todo.extend(t.node_id for t in flow.nodes[node_id].targets())
    return seen


def _check_loops(flow):
    """Every node must be able to reach a node where the call leaves the flow (queue, hangup)."""
    for error in loop_errors(flow)[:1]:
        raise error


def loop_errors(flow):
    """A ConfigError for every node (file order) from which no path reaches a queue or hangup."""
    errors = []
    exits = {n.id for n in flow.nodes.values() if n.terminal}
    changed = True
    while changed:
        changed = False
        for node in flow.nodes.values():
            if node.id not in exits and any(t.node_id in exits for t in node.targets()):
                exits.add(node.id)
                changed = True
    for node in flow.nodes.values():  # file order: report the first trapped node
        if node.id not in exits:
            cycle = _cycle_from(flow, node.id)
            errors.append(ConfigError(f"node '{node.id}' is in a loop without an exit "
                                      f"({' -> '.join(cycle)}): no path from it reaches a queue "
                                      f"or a hangup", flow.source, node.line))
    return errors


def _cycle_from(flow, node_id):
    path, seen = [], {}
    current = node_id
    while current not in seen:
        seen[current] = len(path)
        path.append(current)
        targets = flow.nodes[current].targets()
        if not targets:
            return path
        current = targets[0].node_id
    return path[seen[current]:] + [current]


def load_flow(path, queues=None):
    """Load and check the flow file at ``path``; raises ConfigError naming file and line."""
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    except OSError as exc:
        raise ConfigError(f"cannot read flow file: {exc.strerror}", str(path)) from exc
    flow = parse_flow(text, str(path), queues)
    for warning in flow.warnings:
        logger.warning("IVR flow %s: %s", flow.name, warning)
    return flow


def validate_file(path, queues=None):
    """Check the flow file at ``path``: raises ConfigError, or returns its warnings (texts)."""
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    except OSError as exc:
        raise ConfigError(f"cannot read flow file: {exc.strerror}", str(path)) from exc
    return list(parse_flow(text, str(path), queues).warnings)


def load_flows(directory, queues=None):
    """Load every ``*.yaml``/``*.yml`` flow in ``directory``, keyed by flow name."""
    flows = {}
    for entry in sorted(os.listdir(directory)):
        if entry.endswith((".yaml", ".yml")):
            flow = load_flow(os.path.join(directory, entry), queues)
            if flow.name in flows:
                raise ConfigError(f"flow name '{flow.name}' is used twice (also in "
                                  f"{flows[flow.name].source})", flow.source)
            flows[flow.name] = flow
    return flows
