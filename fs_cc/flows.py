"""Which IVR flow a dialled number runs: the catalog's DID routes over the flow files.

Every flow a route (or the default) names is loaded and checked when the catalog is applied: a
missing file, a broken flow, a missing prompt or a queue node naming a queue the catalog lacks is
refused then, with file and line, and never found by a caller.
"""

import dataclasses
import logging
import pathlib
import typing

from fs_cc.errors import ConfigError
from fs_cc.ivr import FlowRunner, load_flow
from fs_cc.ivr.flow import check_queues
from fs_cc.ivr.sounds import check_sounds
from fs_cc.ivr.speech import PromptCache, prepare_speech

logger = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class FlowTable:
    """The loaded flows and their runners, by name; the number -> flow map; the default."""

    flows: typing.Mapping[str, object]  # name -> fs_cc.ivr.flow.Flow
    runners: typing.Mapping[str, FlowRunner]
    routes: typing.Mapping[str, str]
    default: str

    def flow_name_for(self, number):
        """The name of the flow ``number`` runs (its route, else the default)."""
        return self.routes.get(number, self.default)

    def runner_for(self, number):
        """The FlowRunner for a dialled number."""
        return self.runners[self.flow_name_for(number)]


def flow_path(flows_dir, name):
    """The YAML file of flow ``name``."""
    return pathlib.Path(flows_dir) / f"{name}.yaml"


def overflow_flows(acd):
    """The flows the ACD's queues overflow to (``overflow: {reason: flow:NAME}``)."""
    definitions = getattr(acd, "queue_definitions", lambda: ())()
    return {target.target for queue in definitions
            for target in getattr(queue, "overflow", {}).values() if target.kind == "flow"}


def build_flow_table(catalog, default_flow_path, acd, emitter, sound_prefix=None,
                     callbacks=None, services=None):
    """Load and check every flow the catalog routes to, plus the default one; ConfigError if not.

    ``default_flow_path`` (settings.ivr_flow) is the flow of numbers without a route when the
    catalog names no default; the other flows are files beside it. ``callbacks`` records the
    callback nodes' requests (fs_cc.acd.callbacks.CallbackDesk); ``services`` is what node types
    of their own modules use (fs_cc.ivr.steps).
    """
    default_path = pathlib.Path(default_flow_path)
    flows_dir = default_path.parent
    default = catalog.default_flow or default_path.stem
    names = set(catalog.flows()) | {default} | overflow_flows(acd)
    queues = set(catalog.queues)
    flows = {}
    for name in sorted(names):
        path = default_path if name == default_path.stem else flow_path(flows_dir, name)
        if not path.exists():
            routed = sorted(number for number, flow in catalog.routes.items() if flow == name)
            raise ConfigError(f"flow '{name}' ({path}) does not exist; routed from "
                              f"{', '.join(routed) or 'the default route'}")
        flow = load_flow(path)
        check_queues(flow, queues)
        if sound_prefix is not None:
            prepare_speech(flow, PromptCache(sound_prefix))  # text prompts spoken now, once
            check_sounds(flow, sound_prefix)
        flows[name] = flow
    runners = {}
    runners.update({name: FlowRunner(flow, acd, emitter, callbacks=callbacks, flows=runners.get,
                                              services=services)
                    for name, flow in flows.items()})
    return FlowTable(flows, runners, dict(catalog.routes), default)
