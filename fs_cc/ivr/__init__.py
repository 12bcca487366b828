"""IVR flows: the YAML flow language, its checker, and the runner that walks a flow on a call."""

from fs_cc.ivr.flow import Flow, load_flow, load_flows, parse_flow, validate_file
from fs_cc.ivr.runner import FlowOutcome, FlowResult, FlowRunner
from fs_cc.ivr.nodes_queue import QueueNode, SetNode
from fs_cc.ivr.nodes import (GotoNode, HangupNode, MenuNode, Node, PlayNode,
                             NODE_TYPES)
from fs_cc.ivr.nodes_callback import CallbackNode
from fs_cc.ivr import nodes_record, nodes_sms, nodes_survey  # noqa: F401 (register node types)

__all__ = ["Flow", "load_flow", "load_flows", "parse_flow", "validate_file", "Node", "PlayNode",
           "MenuNode", "QueueNode", "SetNode", "HangupNode", "GotoNode", "CallbackNode",
           "NODE_TYPES", "FlowRunner", "FlowResult", "FlowOutcome"]
from fs_cc.ivr import nodes_lookup  # noqa: F401,E402 (registers the lookup node type)
from fs_cc.ivr import nodes_subflow  # noqa: F401,E402 (subflow and return node types)
from fs_cc.ivr import nodes_transfer  # noqa: F401,E402 (registers the transfer node type)
