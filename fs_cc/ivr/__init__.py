"""IVR flows: the YAML flow language, its checker, and the runner that walks a flow on a call."""

from fs_cc.ivr.flow import Flow, load_flow, load_flows, parse_flow, validate_file
from fs_cc.ivr.runner import FlowOutcome, FlowResult, FlowRunner
from fs_cc.ivr.nodes import (GotoNode, HangupNode, MenuNode, Node, PlayNode, QueueNode, SetNode,
                             NODE_TYPES)
from fs_cc.ivr.nodes_callback import CallbackNode

__all__ = ["Flow", "load_flow", "load_flows", "parse_flow", "validate_file", "Node", "PlayNode",
           "MenuNode", "QueueNode", "SetNode", "HangupNode", "GotoNode", "CallbackNode",
           "NODE_TYPES", "FlowRunner", "FlowResult", "FlowOutcome"]
