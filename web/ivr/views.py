"""The IVR pages: the flows with their DIDs, a flow's editor, and a flow's statistics.

The pages are shells: the editor (static/ivr_editor.js) reads and saves through the IVR JSON
API (web.ivr.api), so the browser and an API client see the same rules. Anyone who may see the
catalog sees the flows read-only; saving and restoring need ``ivr.edit`` (the API checks it
again, the page only leaves the buttons out). The statistics page is drawn here from
web.ivr.stats, with the flow's graph coloured by drop-off (static/ivr_graph.js).
"""

from flask import Blueprint, g, render_template, request

from web.auth.decorators import permission_required
from web.errors import InvalidFilter
from web.ivr import stats_api
from web.params import check_query

bp = Blueprint("ivr_pages", __name__)

VIEW = "catalog.view"
EDIT = "ivr.edit"
STATS = stats_api.VIEW
STATS_PARAMS = ("from", "to", "version")


def register(app):
    """Register the IVR pages and the statistics API on ``app``."""
    app.register_blueprint(bp)
    app.register_blueprint(stats_api.bp)


@bp.get("/ivr")
@permission_required(VIEW)
def index():
    """The flows, their versions and the DIDs that lead to them."""
    return render_template("ivr/index.html", may_edit=EDIT in g.user.permissions,
                           may_stats=STATS in g.user.permissions)


@bp.get("/ivr/<name>")
@permission_required(VIEW)
def editor(name):
    """A flow's YAML with the validator's messages, its graph, prompts and versions."""
    return render_template("ivr/editor.html", name=name, may_edit=EDIT in g.user.permissions,
                           may_stats=STATS in g.user.permissions)


@bp.get("/ivr/<name>/stats")
@permission_required(VIEW, STATS)
def statistics(name):
    """Per-node statistics of a flow over a period, on its graph and in a table."""
    error, stats = None, None
    try:
        check_query(STATS_PARAMS)
        stats = stats_api.stats_from_request(name)
    except InvalidFilter as exc:
        error = exc
    query = {key: request.args[key] for key in STATS_PARAMS if request.args.get(key)}
    return render_template("ivr/stats.html", name=name, stats=stats, error=error,
                           args=request.args, query=query), (400 if error else 200)
