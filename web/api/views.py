"""JSON endpoints that belong to no one feature; errors answer ``{"error": ..., "field": ...}``.

Each feature serves its own JSON routes under /api (web.calls: /api/calls, web.agents:
/api/agents, web.events: /api/events, ...); this blueprint keeps what is about the caller and
the API itself: its OpenAPI document, and (blueprint ``api_docs``, outside /api so that it
answers as a page: a login form rather than a JSON 401) the page that reads it. Both are for
logged-in users (a session or a token): they list every route and field of the installation,
which anonymous visitors have no need of.
"""

from flask import Blueprint, current_app, g, jsonify, render_template

from web.api import docs
from web.api.openapi import build_spec, operation
from web.api.schemas import MeSchema
from web.auth.decorators import login_required

bp = Blueprint("api", __name__, url_prefix="/api")
pages = Blueprint("api_docs", __name__)
pages.add_app_template_filter(docs.inline_code, "inline_code")


@bp.route("/me")
@login_required
@operation(response=MeSchema)
def me():
    """Who the caller is authenticated as, with their role's permissions."""
    return jsonify(username=g.user.username, role=g.user.role.name, extension=g.user.extension,
                   permissions=sorted(g.user.permissions))


def openapi_document():
    """The app's OpenAPI document as a dict, built once per app (the routes are fixed)."""
    document = current_app.extensions.get("fs_cc_openapi")
    if document is None:
        document = build_spec(current_app).to_dict()
        current_app.extensions["fs_cc_openapi"] = document
    return document


@bp.get("/openapi.json")
@login_required
@operation(response_description="The OpenAPI 3 document of this API", tag="api")
def openapi_json():
    """This API's OpenAPI 3 document."""
    return jsonify(openapi_document())


@pages.get("/docs/api")
@login_required
def index():
    """The API reference, a page read from the OpenAPI document."""
    document = openapi_document()
    schemas = docs.schemas(document)
    return render_template("api/docs.html", document=document, groups=docs.operations(document),
                           schemas=schemas, schema_names={name for name, _, _ in schemas})
