"""The readable API reference: the OpenAPI document laid out for a server-rendered page.

No script (the CSP allows only our own, and a docs UI from a CDN is out): the page lists each
operation with its permission, parameters, body fields and answers, and each schema's fields.
"""

import dataclasses
import re

from markupsafe import Markup, escape

REF = "#/components/schemas/"
_CODE = re.compile(r"`([^`]+)`")


def inline_code(text):
    """``text`` escaped, its Markdown `code` spans as <code> (the document's descriptions)."""
    return Markup(_CODE.sub(lambda match: f"<code>{match.group(1)}</code>", str(escape(text))))


@dataclasses.dataclass
class Field:
    """One parameter or schema property as the page shows it."""

    name: str
    type: str
    required: bool
    description: str
    where: str = ""


@dataclasses.dataclass
class OperationView:
    """One method on one path."""

    method: str
    path: str
    operation_id: str
    summary: str
    description: str
    public: bool
    parameters: list
    body: str
    responses: list  # (status, description, schema name or type)


def _schema_name(schema):
    if not schema:
        return ""
    if "$ref" in schema:
        return schema["$ref"][len(REF):]
    if schema.get("type") == "array":
        return f"list of {_schema_name(schema.get('items', {}))}"
    return schema.get("type", "")


def type_of(schema):
    """A short name of a JSON schema's type: ``string``, ``integer or null``, ``list of Call``."""
    if "$ref" in schema:
        return schema["$ref"][len(REF):]
    kind = schema.get("type", "any")
    if kind == "array":
        kind = f"list of {type_of(schema.get('items', {}))}"
    elif kind == "object" and "additionalProperties" in schema:
        kind = f"map of {type_of(schema['additionalProperties'] or {})}"
    if schema.get("enum"):
        kind += " (" + ", ".join(str(value) for value in schema["enum"] if value is not None) + ")"
    if schema.get("nullable"):
        kind += " or null"
    return kind


def _describe(schema):
    parts = [schema.get("description", "")]
    for key, label in (("pattern", "pattern"), ("maxLength", "at most"),
                       ("minimum", "at least")):
        if key in schema:
            parts.append(f"{label} {schema[key]}")
    return "; ".join(part for part in parts if part)


def schema_fields(schema):
    """The properties of an object schema as Fields."""
    required = set(schema.get("required", ()))
    return [Field(name, type_of(prop), name in required, _describe(prop))
            for name, prop in schema.get("properties", {}).items()]


def operations(document):
    """{tag: [OperationView]} in the document's tag order, paths sorted."""
    groups = {tag["name"]: [] for tag in document.get("tags", ())}
    for path, item in sorted(document["paths"].items()):
        shared = item.get("parameters", [])
        for method, op in item.items():
            if method == "parameters":
                continue
            parameters = [Field(p["name"], type_of(p.get("schema", {})), p.get("required", False),
                                p.get("description", "") or _describe(p.get("schema", {})),
                                p["in"]) for p in shared + op.get("parameters", [])]
            body = op.get("requestBody", {}).get("content", {})
            view = OperationView(
                method=method.upper(), path=path, operation_id=op["operationId"],
                summary=op.get("summary", ""), description=op.get("description", ""),
                public=op.get("security") == [], parameters=parameters,
                body=", ".join(_schema_name(media.get("schema")) for media in body.values()),
                responses=[(status, answer["description"],
                            ", ".join(f"{_schema_name(media.get('schema'))} ({kind})"
                                      if kind != "application/json"
                                      else _schema_name(media.get("schema"))
                                      for kind, media in answer.get("content", {}).items()))
                           for status, answer in sorted(op["responses"].items())])
            for tag in op.get("tags", ["other"]):
                groups.setdefault(tag, []).append(view)
    return {tag: views for tag, views in groups.items() if views}


def schemas(document):
    """[(name, description, [Field])] of every component schema, by name."""
    return [(name, schema.get("description", ""), schema_fields(schema))
            for name, schema in sorted(document.get("components", {}).get("schemas", {}).items())]
