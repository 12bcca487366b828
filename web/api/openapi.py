"""The JSON API's OpenAPI 3 document, generated from the code with apispec.

Each JSON view declares its operation with ``@operation(...)``, beneath its permission
decorator: the marshmallow schemas of its query string, body and answer, and the error
statuses it may give. The decorator checks the request at the door: an unknown query
parameter or body field, a missing or mistyped one, answers 400 ``{"error", "field"}`` naming
it (a view without a query schema takes no query parameter). ``build_spec`` walks the app's
URL map, so the document holds every /api route with its real path, methods, permission (the
view's ``access``, web.auth.decorators) and docstring.
A route without ``@operation`` is left out of the document, and tests/web/test_openapi.py
fails on it.
"""

import dataclasses
import functools
import importlib.metadata
import inspect
import logging
import re
import typing

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from apispec_webframeworks.flask import FlaskPlugin
from flask import request
from marshmallow import RAISE, ValidationError, class_registry
from marshmallow.exceptions import RegistryError

from web.api.schemas import ErrorSchema
from web.errors import WebError
from web.params import check_query

logger = logging.getLogger(__name__)

JSON = "application/json"
OPENAPI_VERSION = "3.0.3"
BEARER = "bearerAuth"
ERRORS = {
    400: "Invalid request: `field` names the query parameter or body field at fault",
    401: "Not authenticated: no session or Bearer token, or a token that is unknown, revoked "
         "or expired (the message says which)",
    403: "The user's role lacks a permission this needs (`field` is `permission`)",
    404: "Nothing has the identifier of the path (`field` names it)",
    409: "Conflicts with what is stored (a name taken, a state that does not allow it)",
    422: "Refused by a validator: `messages` holds each problem with its line and column",
    503: "The engine does not answer",
}
DESCRIPTION = (
    "The JSON API of fs_cc. Authenticate with an API token, created on the API tokens page of "
    "your account, as `Authorization: Bearer <token>`; it acts with your role's permissions. "
    "A logged-in browser session works too (a request that changes something then needs the "
    "X-CSRFToken header of the page). Every error answers `{\"error\": message, \"field\": "
    "the field at fault or null}`.")
TAGS = {
    "account": "Who the caller is",
    "calls": "Call records",
    "agents": "The agents' live board, from the engine",
    "events": "Live events (server-sent events)",
    "catalog": "Queues, agents and DID routes",
    "callbacks": "Callback requests of callers who chose not to wait",
    "crm": "Customers, their phones, notes and contact history, the caller lookup",
    "ivr": "IVR flows: versions, the validator, prompts",
    "exports": "Exports run by the worker: progress, then the file to download",
    "desktop": "The agent desktop: one's own state and queues, the screen pop, wrap-up",
    "supervisor": "The supervisor's seat: the wallboard, agent moves, listen/whisper/barge",
    "recordings": "Call recordings: search by call, agent, disposition and length",
    "teams": "Teams: their supervisors and members",
    "chat": "Messages between agents and supervisors, and the supervisors' notices",
    "api": "This document",
}
_ARGUMENT = re.compile(r"<(?:(\w+)(?:\([^)]*\))?:)?(\w+)>")
_CONVERTER_TYPES = {"int": {"type": "integer"}, "float": {"type": "number"}}


class InvalidRequest(WebError):
    """A request's query string or body does not fit its operation's schema."""

    status = 400


@dataclasses.dataclass(frozen=True)
class Operation:
    """What ``@operation`` says of a view."""

    query: typing.Any = None
    body: typing.Any = None
    response: typing.Any = None
    status: int = 200
    errors: tuple = ()
    content_type: str = JSON
    response_description: str = "OK"
    tag: typing.Optional[str] = None


def operation(query=None, body=None, response=None, status=200, errors=(), content_type=JSON,
              response_description="OK", tag=None):
    """Declare a JSON view's operation (schema classes) and check requests against it.

    ``errors``: the statuses it may answer besides those that follow from the view: 400 (a
    query parameter it does not take, a body that does not fit), 401 and 403 (with a permission decorator) and 404 (with a path
    argument). Each is a status (its body an Error) or a (status, schema class) pair.
    ``tag`` groups the operation (by default, after its blueprint).
    """
    spec = Operation(query, body, response, status, tuple(errors), content_type,
                     response_description, tag)
    query_schema = query(unknown=RAISE) if query is not None else None
    body_schema = body(unknown=RAISE) if body is not None else None

    allowed = frozenset(_data_keys(query_schema)) if query_schema is not None else frozenset()

    def decorator(view):
        @functools.wraps(view)
        def wrapped(*args, **kwargs):
            check_query(allowed)  # a view without a query schema takes no parameter
            if query_schema is not None:
                _load_query(query_schema)
            if body_schema is not None:
                _check_body(body_schema)
            return view(*args, **kwargs)

        wrapped.openapi = spec
        wrapped.query_params = allowed
        return wrapped

    return decorator


def _data_keys(schema):
    return [field.data_key or name for name, field in schema.fields.items()]


def _load_query(schema):
    # an empty value is no filter, as on the pages' forms
    values = {name: value for name, value in request.args.items() if value != ""}
    try:
        schema.load(values)
    except ValidationError as exc:
        raise _invalid(exc.messages) from None


def _check_body(schema):
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise InvalidRequest("the body must be a JSON object", field=None)
    try:
        schema.load(data)
    except ValidationError as exc:
        raise _invalid(exc.messages) from None


def _invalid(messages):
    path, message = _first_error(messages)
    field = ".".join(path) if path and path != ("_schema",) else None
    message = message.rstrip(".")
    message = message[:1].lower() + message[1:]
    return InvalidRequest(f"{field}: {message}" if field else message, field=field)


def _first_error(messages, path=()):
    """(field path, message) of the first error in marshmallow's ``messages``.

    A Dict field files an entry's errors under the entry's key, then ``key`` or ``value``:
    those two end the path at the entry (``queues.sales``), as the services name it.
    """
    name = sorted(messages, key=str)[0]
    value = messages[name]
    if isinstance(value, dict):
        if set(value) <= {"key", "value"} and all(isinstance(v, list) for v in value.values()):
            return path + (str(name),), (value.get("key") or value["value"])[0]
        return _first_error(value, path + (str(name),))
    if isinstance(value, list):
        first = value[0]
        if isinstance(first, dict):
            return _first_error(first, path + (str(name),))
        return path + (str(name),), str(first)
    return path + (str(name),), str(value)


def is_api_rule(rule):
    """Whether the URL rule is one of the JSON API's (its path under /api)."""
    return rule.rule == "/api" or rule.rule.startswith("/api/")


def _version():
    try:
        return importlib.metadata.version("fs_cc")
    except importlib.metadata.PackageNotFoundError:
        return "0"


def build_spec(app):
    """The OpenAPI document of ``app``'s /api routes, as an apispec APISpec."""
    spec = APISpec(title="fs_cc API", version=_version(), openapi_version=OPENAPI_VERSION,
                   plugins=[FlaskPlugin(), MarshmallowPlugin()],
                   info={"description": DESCRIPTION},
                   tags=[{"name": name, "description": text} for name, text in TAGS.items()])
    spec.components.security_scheme(BEARER, {
        "type": "http", "scheme": "bearer",
        "description": "An API token of a user (the API tokens page of their account)"})
    spec.components.schema("Error", schema=ErrorSchema)
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: (r.rule, sorted(r.methods))):
        if not is_api_rule(rule):
            continue
        view = app.view_functions[rule.endpoint]
        declared = getattr(view, "openapi", None)
        if declared is None:
            logger.warning("%s (%s) has no @operation: left out of the OpenAPI document",
                           rule.rule, rule.endpoint)
            continue
        methods = sorted(rule.methods - {"HEAD", "OPTIONS"})
        operations = {method.lower(): _operation(rule, view, declared, method, len(methods))
                      for method in methods}
        spec.path(view=view, app=app, operations=operations, parameters=_path_parameters(rule))
    _describe_schemas(spec)
    return spec


def _describe_schemas(spec):
    # the plugin names a component after its class (less "Schema"); its docstring describes it
    for name, component in spec.components.schemas.items():
        try:
            schema_class = class_registry.get_class(f"{name}Schema")
        except RegistryError:
            continue
        if schema_class.__doc__:
            component.setdefault("description", inspect.getdoc(schema_class).partition("\n")[0])


def _path_parameters(rule):
    parameters = []
    for converter, name in _ARGUMENT.findall(rule.rule):
        parameters.append({"in": "path", "name": name, "required": True,
                           "schema": dict(_CONVERTER_TYPES.get(converter, {"type": "string"}))})
    return parameters


def _operation(rule, view, declared, method, method_count):
    summary, _, details = inspect.getdoc(view).partition("\n") if view.__doc__ else ("", "", "")
    access = getattr(view, "access", None)
    if access is None:
        note = "Open to anyone, without authentication."
    elif access.permissions:
        note = "Needs the permission" + ("s " if len(access.permissions) > 1 else " ") + \
            ", ".join(f"`{name}`" for name in access.permissions) + "."
    else:
        note = "Open to any logged-in user."
    result = {
        "operationId": rule.endpoint if method_count == 1 else f"{rule.endpoint}.{method}",
        "summary": summary.strip(),
        "description": "\n\n".join(part for part in (details.strip(), note) if part),
        "tags": [declared.tag or _tag(rule.endpoint)],
        "responses": _responses(rule, declared, access),
        "security": [] if access is None else [{BEARER: []}],
    }
    if access is not None:
        result["x-permissions"] = list(access.permissions)
    if declared.query is not None:
        result["parameters"] = [{"in": "query", "schema": declared.query}]
    if declared.body is not None:
        result["requestBody"] = {"required": True,
                                 "content": {JSON: {"schema": declared.body}}}
    return result


def _tag(endpoint):
    blueprint = endpoint.partition(".")[0]
    return {"api": "account", "catalog_api": "catalog", "callbacks_api": "callbacks"}.get(
        blueprint, blueprint)


def _responses(rule, declared, access):
    if declared.response is not None:
        content = {"schema": declared.response}
    else:
        content = {"schema": {"type": "object" if declared.content_type == JSON else "string"}}
    responses = {str(declared.status): {"description": declared.response_description,
                                        "content": {declared.content_type: content}}}
    schemas = dict(item if isinstance(item, tuple) else (item, "Error")
                   for item in declared.errors)
    statuses = set(schemas)
    statuses.add(400)  # a query parameter the operation does not take, at least
    if access is not None:
        statuses.add(401)
        if access.permissions:
            statuses.add(403)
    if rule.arguments:
        statuses.add(404)
    for code in sorted(statuses):
        responses[str(code)] = {"description": ERRORS[code],
                                "content": {JSON: {"schema": schemas.get(code, "Error")}}}
    return responses
