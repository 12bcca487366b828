"""The IVR flows' JSON API under ``/api/ivr``: what the flow editor reads and saves through.

Any logged-in user reads (flows, versions, diffs, the validator, the prompts); saving and
restoring need ``ivr.edit``. A text with an error is refused with 422 and every message (line,
column, severity, message); a save whose ``base_version`` is not the current version with 409.
Other errors answer ``{"error": ..., "field": ...}`` (400, 404).
"""

import re
import subprocess

from flask import Blueprint, current_app, g, jsonify, request, send_file, url_for
from marshmallow import Schema, fields

from fs_cc.errors import ConfigError
from fs_cc.ivr import flow as flowmod
from fs_cc.ivr.speech import TTS_SUBDIR, PromptCache, SpeechUnavailable, split_text
from fs_cc.sounds import sound_prefix
from web.api.openapi import operation
from web.auth.decorators import login_required, permission_required
from web.catalog.errors import InvalidField, NotFound
from web.errors import WebError
from web.extensions import db
from web.ivr.services import (FlowEditor, engine_notifier, flow_graph, flow_name, flow_text,
                              flows_folder, problem_dict)

bp = Blueprint("ivr_api", __name__, url_prefix="/api/ivr")

EDIT = "ivr.edit"
PROMPT_FILE_RE = re.compile(r"^[0-9a-f]{24}\.wav$")
TAG = "ivr"
_WHEN = "ISO 8601 date-time (UTC)"


class IvrMessageSchema(Schema):
    """One validator finding, at its line and column (from 1)."""

    line = fields.Integer(required=True)
    column = fields.Integer(required=True)
    severity = fields.String(required=True, metadata={"enum": ["error", "warning"]})
    message = fields.String(required=True)


class IvrFlowSummarySchema(Schema):
    """A flow in the list: its current version and the numbers routed to it."""

    name = fields.String(required=True)
    version = fields.Integer(allow_none=True, required=True, metadata={
        "description": "the current version (null: only a file, never saved or loaded)"})
    author = fields.String(allow_none=True, required=True)
    updated_at = fields.String(allow_none=True, required=True, metadata={"description": _WHEN})
    dids = fields.List(fields.String(), required=True)
    source = fields.String(allow_none=True, required=True, metadata={
        "description": "the flow's file in the flows folder (null: no file)"})


class IvrFlowListSchema(Schema):
    """Every flow."""

    flows = fields.List(fields.Nested(IvrFlowSummarySchema), required=True)


class IvrFlowTextSchema(Schema):
    """A flow's current text."""

    name = fields.String(required=True)
    version = fields.Integer(allow_none=True, required=True)
    yaml = fields.String(required=True)
    author = fields.String(allow_none=True, required=True)
    updated_at = fields.String(allow_none=True, required=True, metadata={"description": _WHEN})


class IvrValidateBodySchema(Schema):
    """A text to check as a flow."""

    name = fields.String(required=True)
    yaml = fields.String(required=True)


class IvrGraphNodeSchema(Schema):
    """A node of the drawn flow."""

    id = fields.String(required=True)
    type = fields.String(allow_none=True, required=True)
    label = fields.String(required=True)
    line = fields.Integer(required=True)


class IvrGraphEdgeSchema(Schema):
    """An edge: a key, an outcome or ``next``, from a node to another."""

    from_ = fields.String(data_key="from", required=True)
    to = fields.String(required=True)
    label = fields.String(required=True)


class IvrGraphSchema(Schema):
    """The flow drawn as nodes and edges."""

    nodes = fields.List(fields.Nested(IvrGraphNodeSchema), required=True)
    edges = fields.List(fields.Nested(IvrGraphEdgeSchema), required=True)
    start = fields.String(allow_none=True, required=True)


class IvrValidationSchema(Schema):
    """What the validator says of a text, and its graph (null when it is not YAML)."""

    ok = fields.Boolean(required=True)
    messages = fields.List(fields.Nested(IvrMessageSchema), required=True)
    graph = fields.Nested(IvrGraphSchema, allow_none=True, required=True)


class IvrSaveBodySchema(Schema):
    """A new text for a flow, and the version the edit started from."""

    yaml = fields.String(required=True)
    comment = fields.String(allow_none=True)
    base_version = fields.Integer(allow_none=True, metadata={
        "description": "the version the edit started from (null: the flow has none yet); "
                       "left out, the save replaces whatever is current"})


class IvrVersionNumberSchema(Schema):
    """The version a save or a restore made."""

    version = fields.Integer(required=True)


class IvrRefusedSchema(Schema):
    """A text refused by the validator: every message."""

    error = fields.String(required=True)
    field = fields.String(allow_none=True, required=True)
    messages = fields.List(fields.Nested(IvrMessageSchema), required=True)


class IvrVersionSchema(Schema):
    """One stored version of a flow."""

    flow = fields.String(required=True)
    version = fields.Integer(required=True)
    author = fields.String(required=True, metadata={"description": "a username, or file"})
    created_at = fields.String(required=True, metadata={"description": _WHEN})
    comment = fields.String(required=True)
    sha256 = fields.String(required=True)
    restored_from = fields.Integer(allow_none=True, required=True)
    yaml = fields.String()


class IvrVersionListSchema(Schema):
    """A flow's versions, newest first."""

    versions = fields.List(fields.Nested(IvrVersionSchema), required=True)


class IvrDiffQuerySchema(Schema):
    """The two versions to compare."""

    from_ = fields.Integer(data_key="from", required=True)
    to = fields.Integer(required=True)


class IvrDiffSchema(Schema):
    """A unified diff between two versions."""

    diff = fields.String(required=True)


class IvrPromptSchema(Schema):
    """A spoken prompt of a node, and where to hear it."""

    node = fields.String(required=True)
    text = fields.String(required=True)
    language = fields.String(required=True)
    url = fields.String(required=True)


def editor():
    """A FlowEditor on the request's session, the settings' flows folder and sounds."""
    settings = current_app.extensions["fs_cc_settings"]
    return FlowEditor(db.session, flows_folder(settings), sound_prefix(settings.sounds_dir),
                      engine_notifier(current_app.extensions["fs_cc_control"]))


def _body():
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise InvalidField("the body must be a JSON object", field=None)
    return data


def _when(value):
    return None if value is None else value.isoformat()


@bp.get("/flows")
@login_required
@operation(response=IvrFlowListSchema, tag=TAG)
def flows():
    """Every flow (a file in the flows folder or stored versions) with its DIDs."""
    service = editor()
    stored, dids = service.versions.flows(), service.dids()
    out = []
    for name in service.names():
        row = stored.get(name)
        current = service.versions.get(name, row.current_version) if row else None
        path = service.path(name)
        out.append({"name": name, "version": current.version if current else None,
                    "author": current.author if current else None,
                    "updated_at": _when(row.updated_at) if row else None,
                    "dids": dids.get(name, []),
                    "source": path.name if path.exists() else None})
    return jsonify(flows=out)


@bp.get("/flows/<name>")
@login_required
@operation(response=IvrFlowTextSchema, tag=TAG)
def flow(name):
    """A flow's current text: its current version, else its file."""
    current, text = editor().text_of(flow_name(name))
    return jsonify(name=name, version=current.version if current else None, yaml=text,
                   author=current.author if current else None,
                   updated_at=_when(current.created_at) if current else None)


@bp.post("/validate")
@login_required
@operation(body=IvrValidateBodySchema, response=IvrValidationSchema, tag=TAG)
def validate():
    """Check a text as flow ``name`` (today's queues and flows), and draw it."""
    data = _body()
    name, text = flow_name(data["name"]), flow_text(data["yaml"])
    service = editor()
    problems = service.problems(name, text)
    return jsonify(ok=not any(p.severity == "error" for p in problems),
                   messages=[problem_dict(p) for p in problems],
                   graph=flow_graph(text, str(service.path(name))))


@bp.put("/flows/<name>")
@permission_required(EDIT)
@operation(body=IvrSaveBodySchema, response=IvrVersionNumberSchema,
           errors=(409, (422, IvrRefusedSchema)), tag=TAG)
def save(name):
    """Save a new version: validated, stored, written to its file, the engines told.

    422 with every message when the validator finds an error; 409 when ``base_version`` is
    not the current version (someone saved meanwhile)."""
    data = _body()
    row = editor().save(flow_name(name), flow_text(data["yaml"]), g.user,
                        comment=data.get("comment") or "",
                        base_version=data.get("base_version"),
                        check_base="base_version" in data)
    return jsonify(version=row.version)


@bp.get("/flows/<name>/versions")
@login_required
@operation(response=IvrVersionListSchema, tag=TAG)
def versions(name):
    """Every version of a flow, newest first."""
    return jsonify(versions=[row.to_dict() for row in
                             editor().versions.history(flow_name(name))])


@bp.get("/flows/<name>/versions/<int:version>")
@login_required
@operation(response=IvrVersionSchema, tag=TAG)
def version(name, version):
    """One version of a flow, with its text."""
    return jsonify(editor().versions.get(flow_name(name), version).to_dict(with_yaml=True))


@bp.get("/flows/<name>/diff")
@login_required
@operation(query=IvrDiffQuerySchema, response=IvrDiffSchema, tag=TAG)
def diff(name):
    """The unified diff from version ``from`` to version ``to``."""
    first, second = int(request.args["from"]), int(request.args["to"])
    return jsonify(diff=editor().versions.diff(flow_name(name), first, second))


@bp.post("/flows/<name>/versions/<int:version>/restore")
@permission_required(EDIT)
@operation(response=IvrVersionNumberSchema, errors=((422, IvrRefusedSchema),), tag=TAG)
def restore(name, version):
    """Make an old version current again, as a new version (validated against today's
    queues: 422 when it no longer fits)."""
    row = editor().restore(flow_name(name), version, g.user)
    return jsonify(version=row.version)


@bp.get("/flows/<name>/prompts")
@login_required
@operation(response=IvrPromptSchema(many=True), tag=TAG)
def prompts(name):
    """Each text a flow's nodes speak (its current text), generated now if need be, with the
    URL of its WAV file. A ``{variable}`` is spoken per call and is left out."""
    settings = current_app.extensions["fs_cc_settings"]
    _, text = editor().text_of(flow_name(name))
    try:
        parsed = flowmod.parse_flow(text, name)
    except ConfigError as exc:
        raise InvalidField(f"the flow does not load: {exc}", field="yaml") from None
    cache = PromptCache(sound_prefix(settings.sounds_dir))
    out = []
    for node in parsed.nodes.values():
        language = getattr(node, "language", None) or parsed.language
        for spoken in node.speech_texts(language):
            for kind, piece in split_text(spoken):
                if kind != "text":
                    continue
                try:
                    sound = cache.speak(piece, language)
                except (SpeechUnavailable, subprocess.CalledProcessError, OSError) as exc:
                    raise WebError(f"node {node.id}: cannot speak its text: {exc}",
                                   field="yaml", status=503) from None
                out.append({"node": node.id, "text": piece, "language": language,
                            "url": url_for("ivr_api.prompt_file",
                                           filename=sound.rpartition("/")[2])})
    return jsonify(out)


@bp.get("/prompts/<filename>")
@login_required
@operation(content_type="audio/wav", response_description="The WAV file (8 kHz mono)",
           tag=TAG)
def prompt_file(filename):
    """A generated prompt's WAV file, as the switch plays it."""
    settings = current_app.extensions["fs_cc_settings"]
    if not PROMPT_FILE_RE.match(filename):
        raise NotFound(f"no prompt {filename}", field="filename")
    path = PromptCache(sound_prefix(settings.sounds_dir)).path(f"{TTS_SUBDIR}/{filename}")
    try:
        return send_file(path, mimetype="audio/wav")
    except FileNotFoundError:
        raise NotFound(f"no prompt {filename}", field="filename") from None
