"""The catalog admin pages: queues, agents and DIDs; admins edit, managers and supervisors read."""

from flask import Blueprint, current_app, flash, g, redirect, render_template, request, url_for

from fs_cc.acd.queue_def import DTMF_KEYS, OVERFLOW_KINDS, OVERFLOW_REASONS, RECORD_MODES
from fs_cc.acd.strategy import STRATEGIES
from fs_cc.directory import sip_password
from web.auth.decorators import permission_required
from web.catalog import forms
from web.catalog.dids import MAX_FILE_BYTES, DidService
from web.catalog.errors import CatalogError, ImportRejected, InvalidField
from web.catalog.models import Queue
from web.catalog.notifier import EngineNotifier
from web.catalog.rules import FlowDirectory
from web.catalog.services import AgentService, QueueService
from web.extensions import db

bp = Blueprint("catalog", __name__, url_prefix="/catalog")

READ = "catalog.view"
EDIT = "catalog.manage"


def _notifier():
    return EngineNotifier(current_app.extensions["fs_cc_control"])


def flow_directory():
    """The flows a DID may route to: the folder of the settings' ``ivr_flow``."""
    return FlowDirectory(current_app.extensions["fs_cc_settings"].ivr_flow.parent)


def queue_service():
    """A QueueService on the request's session, telling the engine of each change."""
    return QueueService(db.session, _notifier())


def agent_service():
    """An AgentService on the request's session, telling the engine of each change."""
    return AgentService(db.session, _notifier())


def did_service():
    """A DidService on the request's session and the flows folder, telling the engine."""
    return DidService(db.session, _notifier(), flow_directory())


def _can_edit():
    return g.user.can(EDIT)


# queues

@bp.get("/queues")
@permission_required(READ)
def queues():
    """Every queue with its strategy, music on hold, members and state."""
    return render_template("catalog/queues.html", queues=queue_service().list(),
                           can_edit=_can_edit())


def _queue_form(queue, values, error=None, status=200):
    return render_template("catalog/queue_form.html", queue=queue, values=values, error=error,
                           strategies=sorted(STRATEGIES), overflow_reasons=OVERFLOW_REASONS,
                           overflow_kinds=OVERFLOW_KINDS, record_modes=RECORD_MODES,
                           dtmf_keys=DTMF_KEYS, setting_fields=Queue.SETTINGS,
                           can_edit=_can_edit()), status


@bp.get("/queues/new")
@permission_required(EDIT)
def new_queue():
    """An empty queue form, every setting at its default."""
    return _queue_form(None, forms.default_queue_values())


@bp.post("/queues/new")
@permission_required(EDIT)
def create_queue():
    """Create the queue, or show the form again with the field at fault."""
    try:
        queue = queue_service().create(forms.queue_data(request.form, creating=True))
    except CatalogError as exc:
        return _queue_form(None, forms.queue_shown(request.form, True), exc, exc.status)
    flash(f"Queue {queue.name} created.", "info")
    return redirect(url_for("catalog.queues"))


@bp.get("/queues/<name>")
@permission_required(READ)
def queue(name):
    """One queue's form (read-only unless admin)."""
    queue = queue_service().get(name)
    return _queue_form(queue, forms.queue_values(queue.settings(), queue.enabled))


@bp.post("/queues/<name>")
@permission_required(EDIT)
def update_queue(name):
    """Save the queue, or show the form again with the field at fault."""
    service = queue_service()
    try:
        queue = service.update(name, forms.queue_data(request.form, creating=False))
    except CatalogError as exc:
        return _queue_form(service.get(name), forms.queue_shown(request.form, False), exc,
                           exc.status)
    flash(f"Queue {queue.name} saved.", "info")
    return redirect(url_for("catalog.queues"))


# agents

@bp.get("/agents")
@permission_required(READ)
def agents():
    """Every agent with its user, queues (and levels), skills and state."""
    return render_template("catalog/agents.html", agents=agent_service().list(),
                           format_skills=forms.format_skills, can_edit=_can_edit())


def _agent_form(agent, values, error=None, status=200):
    service = agent_service()
    return render_template("catalog/agent_form.html", agent=agent, values=values, error=error,
                           queues=queue_service().list(), users=service.linkable_users(agent),
                           can_edit=_can_edit(), sip_password=_sip_password(agent)), status


def _sip_password(agent):
    """The agent's SIP password, for admins only: what the engine gives FreeSWITCH's directory.

    Derived from the control secret the web shares with the engine (fs_cc.directory), so the
    web never stores it and a web on another host holds no SIP secret of its own.
    """
    if agent is None or not _can_edit():
        return None
    return sip_password(current_app.config["FS_CC_CONTROL_SECRET"], agent.extension)


def _agent_values(agent):
    return {"name": agent.name, "user_id": agent.user_id,
            "skills": forms.format_skills(agent.skills), "queues": agent.levels(),
            "enabled": agent.enabled}


def _shown(form, queue_names):
    """The agent form's values as submitted, to show again beside an error."""
    user_id = form.get("user_id", "")
    return {"extension": form.get("extension", ""), "name": form.get("name", ""),
            "user_id": int(user_id) if user_id.isdigit() else None,
            "skills": form.get("skills", ""),
            "queues": {name: form.get(f"level-{name}", "1") for name in queue_names
                       if f"queue-{name}" in form},
            "enabled": "enabled" in form}


@bp.get("/agents/new")
@permission_required(EDIT)
def new_agent():
    """An empty agent form."""
    return _agent_form(None, {"queues": {}, "enabled": True, "skills": ""})


@bp.post("/agents/new")
@permission_required(EDIT)
def create_agent():
    """Create the agent, or show the form again with the field at fault."""
    names = [queue.name for queue in queue_service().list()]
    try:
        agent = agent_service().create(forms.agent_data(request.form, True, names))
    except CatalogError as exc:
        return _agent_form(None, _shown(request.form, names), exc, exc.status)
    flash(f"Agent {agent.extension} created.", "info")
    return redirect(url_for("catalog.agents"))


@bp.get("/agents/<extension>")
@permission_required(READ)
def agent(extension):
    """One agent's form (read-only unless admin)."""
    agent = agent_service().get(extension)
    return _agent_form(agent, _agent_values(agent))


@bp.post("/agents/<extension>")
@permission_required(EDIT)
def update_agent(extension):
    """Save the agent, or show the form again with the field at fault."""
    service = agent_service()
    names = [queue.name for queue in queue_service().list()]
    try:
        agent = service.update(extension, forms.agent_data(request.form, False, names))
    except CatalogError as exc:
        return _agent_form(service.get(extension), _shown(request.form, names), exc,
                           exc.status)
    flash(f"Agent {agent.extension} saved.", "info")
    return redirect(url_for("catalog.agents"))


# DIDs

def _dids_page(problems=(), error=None, status=200):
    return render_template("catalog/dids.html", routes=did_service().list(),
                           problems=problems, error=error, can_edit=_can_edit()), status


@bp.get("/dids")
@permission_required(READ)
def dids():
    """Every DID route, the default marked, and (for admins) the file import."""
    return _dids_page()


def _did_form(route, values, error=None, status=200):
    return render_template("catalog/did_form.html", route=route, values=values, error=error,
                           flows=flow_directory().names(), can_edit=_can_edit()), status


@bp.get("/dids/new")
@permission_required(EDIT)
def new_did():
    """An empty DID form."""
    return _did_form(None, {"enabled": True})


@bp.post("/dids/new")
@permission_required(EDIT)
def create_did():
    """Create the route, or show the form again with the field at fault."""
    data = forms.did_data(request.form, creating=True)
    try:
        route = did_service().create(data)
    except CatalogError as exc:
        return _did_form(None, data, exc, exc.status)
    flash(f"Route {route.number} created.", "info")
    return redirect(url_for("catalog.dids"))


@bp.get("/dids/<number>")
@permission_required(READ)
def did(number):
    """One route's form (read-only unless admin)."""
    route = did_service().get(number)
    return _did_form(route, {"flow": route.flow, "description": route.description,
                             "enabled": route.enabled, "default": route.is_default})


@bp.post("/dids/<number>")
@permission_required(EDIT)
def update_did(number):
    """Save the route, or show the form again with the field at fault."""
    service = did_service()
    data = forms.did_data(request.form, creating=False)
    try:
        route = service.update(number, data)
    except CatalogError as exc:
        return _did_form(service.get(number), data, exc, exc.status)
    flash(f"Route {route.number} saved.", "info")
    return redirect(url_for("catalog.dids"))


@bp.post("/dids/import")
@permission_required(EDIT)
def import_dids():
    """Import an uploaded DID file: every route or, when any row is bad, none."""
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        error = InvalidField("choose a YAML file to import", field="file")
        return _dids_page(error=error, status=400)
    try:
        result = did_service().import_bytes(upload.read(MAX_FILE_BYTES + 1), upload.filename)
    except ImportRejected as exc:
        return _dids_page(problems=exc.problems, error=exc, status=exc.status)
    except CatalogError as exc:
        return _dids_page(error=exc, status=exc.status)
    flash(f"Imported {upload.filename}: {len(result.created)} new, {len(result.updated)} "
          f"updated" + (f"; default {result.default_number}" if result.default_number else "")
          + ".", "info")
    return redirect(url_for("catalog.dids"))
