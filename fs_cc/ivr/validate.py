"""`fs-cc ivr validate`: every problem of a flow file at once, as ``file:line:column: error: ...``.

The loader (fs_cc.ivr.flow) stops at the first mistake, which suits the engine; an admin fixing a
file wants them all. So each node is parsed on its own (a broken node is reported and stood in for
by a placeholder, so the graph checks still run on the others), and the graph, queue, prompt and
variable checks each report every node they find, with the loader's own messages.

The known queues are names, or a mapping of names to their settings (fs_cc.acd.queue_def.Queue,
None when unknown): with the settings, a queue node sending callers to a queue that keeps
opening hours or is closed, with no way on for a closed queue, is warned of.
"""

import collections.abc
import dataclasses
import os
import re
import typing

from fs_cc.errors import ConfigError
from fs_cc.ivr import flow as flowmod
from fs_cc.ivr.nodes import DEFAULT_LANGUAGE, LANGUAGES, MenuNode, Node, PlayNode
from fs_cc.ivr.nodes_queue import QueueNode, SetNode
from fs_cc.ivr.nodes_collect import CollectNode
from fs_cc.ivr.nodes_condition import ConditionNode
from fs_cc.ivr.nodes_record import RecordNode
from fs_cc.ivr.nodes_sms import SmsNode
from fs_cc.ivr.nodes_lookup import LookupNode, unknown_sources
from fs_cc.ivr.nodes_subflow import SubflowNode, self_calls
from fs_cc.ivr.datasources import source_names_beside
from fs_cc.ivr.nodes_say import SayNode
from fs_cc.ivr.sounds import missing_sounds
from fs_cc.ivr.speech import VARIABLE_RE as PROMPT_VARIABLE_RE
from fs_cc.ivr.yamlmarks import load_yaml

QUOTED_RE = re.compile(r"'([^'\s]+)'")
ANY_VARIABLE = "*"  # after a subflow node: whatever the subflow set
# channel variables FreeSWITCH gives every call, usable in prompts and conditions unset
BUILTIN_VARIABLES = frozenset((
    "caller_id_number", "caller_id_name", "destination_number", "ani", "uuid",
    "network_addr", "sip_from_user", "sip_to_user", "effective_caller_id_number",
    "effective_caller_id_name", "language",
))


@dataclasses.dataclass(frozen=True)
class Problem:
    """One finding: where (1-based line and column), how bad (error, warning) and what."""

    path: str
    line: int
    column: int
    severity: str
    message: str

    def __str__(self):
        return f"{self.path}:{self.line}:{self.column}: {self.severity}: {self.message}"


@dataclasses.dataclass(frozen=True)
class _Placeholder(Node):
    """Stands in for a node that failed to parse or does not exist, so no false follow-ups."""

    terminal: typing.ClassVar[bool] = True


class _Report:
    """Collects problems of one file; finds columns in its text when only a line is known."""

    def __init__(self, path, text):
        self.path = path
        self.lines = text.splitlines()
        self.problems = []

    def column(self, line, needle=None):
        """Column of ``needle`` on ``line`` (else of its first non-blank character)."""
        if line is None or not 1 <= line <= len(self.lines):
            return 1
        text = self.lines[line - 1]
        if needle:
            index = text.find(needle)
            if index >= 0:
                return index + 1
        return len(text) - len(text.lstrip()) + 1

    def find(self, start, needle):
        """The first (line, column) at or after ``start`` holding ``needle``, else ``start``'s."""
        for line in range(max(start or 1, 1), len(self.lines) + 1):
            if needle in self.lines[line - 1]:
                return line, self.column(line, needle)
        return start or 1, self.column(start)

    def add(self, severity, message, line, column=None, needle=None):
        """Note a problem at ``line`` (column given, or found from ``needle``)."""
        line = line or 1
        self.problems.append(Problem(self.path, line, column or self.column(line, needle),
                                     severity, message))

    def error_from(self, exc, needle=None, node_id=None):
        """Note a loader ConfigError, keeping its message; without a column, point at the last
        value the message quotes when that line holds it (the wrong type, regex, range)."""
        column = getattr(exc, "column", None)
        if column is None and needle is None and 1 <= (exc.line or 0) <= len(self.lines):
            text = self.lines[exc.line - 1]
            quoted = [q for q in QUOTED_RE.findall(exc.message) if q != node_id and q in text]
            needle = quoted[-1] if quoted else None
        self.add("error", exc.message, exc.line, column, needle)


def validate_text(text, path, queues=None, sound_prefix=None, flows=None, data_sources=None):
    """Every problem of flow YAML ``text`` from file ``path``, errors and warnings, in file order.

    ``queues``/``flows``/``data_sources`` (if given) are the names that exist (``queues`` may map
    each name to its fs_cc.acd.queue_def.Queue, for the closed-queue warning); ``sound_prefix``
    (if given) is where the switch reads prompts.
    """
    report = _Report(path, text)
    duplicates = []
    try:
        data = load_yaml(text, path, duplicates)
    except ConfigError as exc:
        report.error_from(exc)
        return report.problems
    for exc in duplicates:
        report.error_from(exc)
    flow = _top_level(data, report)
    if flow is not None:
        _check(flow, data, report, queues, sound_prefix, flows)
        for node, message, line in unknown_sources(flow, data_sources):
            report.add("error", message, line, needle=node.source)
        for node, message in self_calls(flow):
            report.add("error", message, node.flow_line, needle=node.flow)
    return sorted(report.problems, key=lambda p: (p.line, p.column))


def validate_file(path, queues=None, sound_prefix=None, flows=None, data_sources=None):
    """Every problem of the flow file at ``path`` (see :func:`validate_text`); the data sources
    are, unless given, those of the file beside it (fs_cc.ivr.datasources), when there is one."""
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    except OSError as exc:
        return [Problem(str(path), 1, 1, "error", f"cannot read flow file: {exc.strerror}")]
    if data_sources is None:
        data_sources, problem = source_names_beside(str(path))
        if problem is not None:
            return [Problem(problem.path, problem.line or 1, 1, "error", problem.message)]
    return validate_text(text, str(path), queues, sound_prefix, flows, data_sources)


def _top_level(data, report):
    if not isinstance(data, dict):
        report.add("error", "a flow file must be a mapping with 'start' and 'nodes'", 1)
        return None
    for key in data:
        if key not in flowmod.TOP_LEVEL_FIELDS:
            report.add("error", f"unknown top-level field '{key}' (expected: "
                                f"{', '.join(flowmod.TOP_LEVEL_FIELDS)})",
                       data.key_line_of(key), data.key_column_of(key))
    language = data.get("language", DEFAULT_LANGUAGE)
    if language not in LANGUAGES:
        report.add("error", f"unknown language {language!r} (languages: {', '.join(LANGUAGES)})",
                   data.line_of("language"), data.column_of("language"))
        language = DEFAULT_LANGUAGE
    start = data.get("start")
    if not isinstance(start, str) or not start:
        report.add("error", "missing required field 'start' (the id of the first node)",
                   data.line_of("start"), data.column_of("start"))
        start = None
    raw_nodes = data.get("nodes")
    if not isinstance(raw_nodes, dict) or not raw_nodes:
        report.add("error", "'nodes' must map node ids to nodes", data.line_of("nodes"),
                   data.column_of("nodes"))
        return None
    nodes = {}
    for node_id, raw in raw_nodes.items():
        line = raw_nodes.key_line_of(node_id)
        try:
            nodes[str(node_id)] = flowmod._parse_node(str(node_id), raw, line, report.path)
        except ConfigError as exc:
            report.error_from(exc, node_id=str(node_id))
            nodes[str(node_id)] = _Placeholder(str(node_id), line)
        if isinstance(raw, dict) and raw.get("type") == "menu" and _duplicate_keys(
                str(node_id), raw.get("options"), report):
            nodes[str(node_id)] = _Placeholder(str(node_id), line)  # its edges are unsure
    name = data.get("name") if isinstance(data.get("name"), str) else None
    name = name or os.path.splitext(os.path.basename(report.path))[0]
    return flowmod.Flow(name, start, nodes, report.path, language=language)


def _duplicate_keys(node_id, options, report):
    # 1 and "1" are two YAML keys but one DTMF key: the loader would keep only the last
    if not isinstance(options, dict):
        return False
    seen = {}
    for key in options:
        digit = str(key)
        if digit in seen:
            report.add("error", f"node '{node_id}' (menu): key {digit} is given twice (first on "
                                f"line {seen[digit]}); a caller pressing it can go only one way",
                       options.key_line_of(key), options.key_column_of(key))
        seen.setdefault(digit, options.key_line_of(key))
    return len(seen) < len(options)


def _check(flow, data, report, queues, sound_prefix, known_flows):
    unparsed = {i for i, n in flow.nodes.items() if isinstance(n, _Placeholder)}
    broken = set(unparsed)  # and, below, the missing nodes targets name
    raw_nodes = data["nodes"]
    if flow.start is not None and flow.start not in flow.nodes:
        report.add("error", f"start node '{flow.start}' is not defined", data.line_of("start"),
                   data.column_of("start"))
    for node in list(flow.nodes.values()):
        for target in node.targets():
            if target.node_id not in flow.nodes:
                report.add("error", f"node '{node.id}' {target.label} goes to unknown node "
                                    f"'{target.node_id}'", target.line, needle=target.node_id)
                flow.nodes[target.node_id] = _Placeholder(target.node_id, target.line)
                broken.add(target.node_id)
            elif target.node_id == node.id and node.type_name != "menu":
                report.add("error", f"node '{node.id}' {target.label} goes to itself",
                           target.line, needle=target.node_id)
    for error in flowmod.loop_errors(flow):
        report.error_from(error, needle=None)
    if flow.start in flow.nodes and not unparsed:  # a broken node's edges are unknown
        reached = flowmod._reachable(flow, flow.start)
        for node in flow.nodes.values():
            if node.id not in reached and node.id not in broken:
                report.add("error", f"node '{node.id}' can never be reached from the start node "
                                    f"'{flow.start}': no option or next leads to it", node.line)
    good = [n for n in flow.nodes.values() if n.id not in broken]
    if queues is not None:
        for node in good:
            try:
                flowmod.check_queues(flowmod.Flow(flow.name, flow.start, {node.id: node},
                                                  flow.source), queues)
            except ConfigError as exc:
                raw = raw_nodes.get(node.id)
                if isinstance(raw, dict) and exc.line == raw.line_of("queue"):
                    exc.column = raw.column_of("queue")
                report.error_from(exc)
    if known_flows is not None:
        _check_flows(good, report, known_flows)
    if sound_prefix is not None:
        for sound, node_id, line in missing_sounds(flowmod.Flow(
                flow.name, flow.start, {n.id: n for n in good}, flow.source), sound_prefix):
            line, column = report.find(line, sound)
            report.add("error", f"node '{node_id}' plays '{sound}', which is not in "
                                f"{sound_prefix}: add the recording or generate it "
                                f"(freeswitch_conf/sounds/generate.py)", line, column)
    # a broken set or collect node may have given the variable: say nothing rather than be wrong
    if not any(isinstance(raw_nodes.get(i), dict) and raw_nodes[i].get("type") in
               ("set", "collect", "lookup") for i in unparsed):
        _check_variables(flow, good, report)
    for node in good:
        if isinstance(node, MenuNode) and node.default == node.id:
            report.add("warning", f"node '{node.id}' ({node.type_name}): when the caller presses "
                                  f"nothing its 'default' comes back to itself, so a silent "
                                  f"caller waits until hanging up; send 'default' to another "
                                  f"node", node.default_line, needle=node.default)
    if isinstance(queues, collections.abc.Mapping):
        _check_closed_paths(good, raw_nodes, report, queues)


def _check_closed_paths(nodes, raw_nodes, report, queues):
    # a closed queue turns its caller away at once, and when neither the node's outcomes nor
    # the queue's overflow say where to, the runner hangs up without a prompt (queue_step)
    for node in nodes:
        if not isinstance(node, QueueNode) or "closed" in node.on:
            continue
        queue = queues.get(node.queue)
        if queue is None or "closed" in queue.overflow:
            continue
        if queue.closed:
            state, callers = "is closed by an admin", "every caller sent here is"
        elif queue.hours is not None:
            state, callers = "keeps opening hours", "callers outside them are"
        else:
            continue
        raw = raw_nodes.get(node.id)
        column = raw.column_of("queue") if isinstance(raw, dict) and "queue" in raw else None
        report.add("warning", f"node '{node.id}' (queue): queue '{node.queue}' {state} but the "
                              f"node has no 'closed' path: {callers} cut off at once without "
                              f"hearing why (add closed: NODE to its outcomes, or give the queue "
                              f"a closed overflow)", node.queue_line, column)


def _check_flows(nodes, report, known_flows):
    # the node types that name another flow (transfer, subflow) hold it in 'flow'
    for node in nodes:
        name = getattr(node, "flow", None)
        if isinstance(name, str) and name and name not in known_flows:
            report.add("error", f"node '{node.id}' ({node.type_name}) goes to unknown flow "
                                f"'{name}' (flows: {', '.join(sorted(known_flows)) or 'none'})",
                       getattr(node, "flow_line", node.line), needle=name)


def _provided(node):
    if isinstance(node, LookupNode):
        return node.provided()
    if isinstance(node, SubflowNode):  # its flow may set any variable: not checked after it
        return {ANY_VARIABLE}
    if isinstance(node, SetNode):
        return {name for name, _ in node.variables}
    if isinstance(node, CollectNode):
        return {node.variable}
    if isinstance(node, RecordNode) and node.variable:  # and voicemail: the message's path
        return {node.variable}
    return set()


def _read(node):
    """(variable, where it appears) of every variable ``node`` reads."""
    if isinstance(node, PlayNode) and node.text:
        return [(name, "{" + name + "}") for name in PROMPT_VARIABLE_RE.findall(node.text)]
    if isinstance(node, SayNode) and node.variable:
        return [(node.variable, node.variable)]
    if isinstance(node, ConditionNode):
        return [(t.subject, t.subject) for b in node.branches for t in b.tests
                if t.kind == "variable"]
    if isinstance(node, LookupNode):
        return [(name, name) for name in node.key_variables()]
    if isinstance(node, SmsNode):
        return [(name, "{" + name + "}") for name in node.variables_read()]
    return []


def _check_variables(flow, good, report):
    available = {node_id: set(BUILTIN_VARIABLES) for node_id in flow.nodes}
    for node in good:  # what a node provides is known in every node it leads to
        names = _provided(node)
        if names:
            for target in node.targets():
                if isinstance(node, LookupNode) and target.label != "next":
                    continue  # a lookup's variables are set only when it found the record
                for reached in flowmod._reachable(flow, target.node_id):
                    available[reached] |= names
    for node in good:
        for name, needle in _read(node):
            if name not in available[node.id] and ANY_VARIABLE not in available[node.id]:
                line, column = report.find(node.line, needle)
                report.add("error", f"node '{node.id}' uses the variable '{name}', but no "
                                    f"'set' or 'collect' node before it gives it a value and it "
                                    f"is not a channel variable", line, column)
