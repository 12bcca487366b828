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
from fs_cc.ivr import FlowRunner
from fs_cc.ivr.flow import check_queues
from fs_cc.ivr.sounds import check_sounds
from fs_cc.ivr.speech import PromptCache, prepare_speech
from fs_cc.ivr.versions import FlowSource, load_source

logger = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class FlowTable:
    """The loaded flows and their runners, by name; the number -> flow map; the default."""

    flows: typing.Mapping[str, object]  # name -> fs_cc.ivr.flow.Flow
    runners: typing.Mapping[str, FlowRunner]
    routes: typing.Mapping[str, str]
    default: str
    # name -> the FlowSource (text, sha256, version) each flow was built from
    sources: typing.Mapping[str, FlowSource] = dataclasses.field(default_factory=dict)

    def stamp_of(self, runner):
        """The FlowSource of ``runner``'s flow when this table built it, else None."""
        # by identity: a flow's own ``name:`` may differ from the file (and table) name
        return next((self.sources.get(name) for name, built in self.runners.items()
                     if built is runner), None)

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
                     callbacks=None, services=None, texts=None, versions=None, prompt_url=""):
    """Load and check every flow the catalog routes to, plus the default one; ConfigError if not.

    ``default_flow_path`` (settings.ivr_flow) is the flow of numbers without a route when the
    catalog names no default; the other flows are files beside it. ``callbacks`` records the
    callback nodes' requests (fs_cc.acd.callbacks.CallbackDesk); ``services`` is what node types
    of their own modules use (fs_cc.ivr.steps). ``texts`` (name -> YAML) are used instead of
    the files for those flows (a hot reload re-reads only the file that changed);
    ``versions(name, sha256)`` gives the stored version number of a text (or None);
    ``prompt_url`` (settings.prompt_url) is where a switch on another machine fetches the
    spoken prompts (fs_cc.control.prompts), or "" when it reads them from the sound_prefix.
    """
    default_path = pathlib.Path(default_flow_path)
    flows_dir = default_path.parent
    default = catalog.default_flow or default_path.stem
    names = set(catalog.flows()) | {default} | overflow_flows(acd)
    queues = set(catalog.queues)
    flows, sources = {}, {}
    pending, called_by = sorted(names), {}  # and the flows transfer and subflow nodes run
    while pending:
        name = pending.pop(0)
        if name in flows:
            continue
        path = default_path if name == default_path.stem else flow_path(flows_dir, name)
        if name not in (texts or {}) and not path.exists():
            routed = sorted(number for number, flow in catalog.routes.items() if flow == name)
            raise ConfigError(f"flow '{name}' ({path}) does not exist; routed from "
                              f"{', '.join(routed) or called_by.get(name, 'the default route')}")
        source = load_source(name, path, (texts or {}).get(name), versions)
        flow = source.parse()
        check_queues(flow, queues)
        if sound_prefix is not None:
            prepare_speech(flow, PromptCache(sound_prefix, url=prompt_url))  # text prompts spoken now, once
            check_sounds(flow, sound_prefix)
        flows[name] = flow
        sources[name] = source
        pending.extend(flow.flows_called())
        called_by.update((n, f"flow '{name}'") for n in flow.flows_called() if n not in called_by)
    runners = {}
    runners.update({name: FlowRunner(flow, acd, emitter, callbacks=callbacks, flows=runners.get,
                                              services=services)
                    for name, flow in flows.items()})
    return FlowTable(flows, runners, dict(catalog.routes), default, sources)
