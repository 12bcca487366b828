"""The `json` and `xml` event formats of mod_event_socket (`event json ...`, `myevents json`)."""

import json

from fs_cc.emulator.protocol import url_encode


def _json_string(value):
    # cJSON_PrintUnformatted escapes ", \\ and control characters and leaves UTF-8 as is,
    # which is what json.dumps(ensure_ascii=False) does for a str.
    return json.dumps(str(value), ensure_ascii=False)


def event_json(event):
    """The event body as switch_event_serialize_json writes it (switch_event.c).

    Keys and values are not URL-encoded; an event with a body gets a `Content-Length` key (the
    body's byte count) and then `_body`. Header order is kept, as cJSON keeps insertion order.
    """
    pairs = list(event.headers)
    if event.body is not None:
        pairs.append(("Content-Length", str(len(event.body.encode("utf-8")))))
        pairs.append(("_body", event.body))
    return "{" + ",".join("%s:%s" % (_json_string(k), _json_string(v)) for k, v in pairs) + "}"


def _xml_escape(text):
    return (text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&quot;"))


def event_xml(event):
    """The event as switch_event_xmlize renders it: URL-encoded values under <headers>, then <body>."""
    lines = ["<event>", "  <headers>"]
    headers = list(event.headers)
    if event.body is not None:
        headers.append(("Content-Length", str(len(event.body.encode("utf-8")))))
    for key, value in headers:
        lines.append("    <%s>%s</%s>" % (key, _xml_escape(url_encode(str(value))), key))
    lines.append("  </headers>")
    if event.body is not None:
        lines.append("  <body>%s</body>" % _xml_escape(event.body))
    lines.append("</event>")
    return "\n".join(lines)


def frame(event, fmt):
    """The whole ESL message for the event in `plain`, `json` or `xml` format."""
    if fmt == "plain":
        return event.plain()
    text = event_json(event) if fmt == "json" else event_xml(event)
    data = text.encode("utf-8")
    return b"Content-Length: %d\nContent-Type: text/event-%s\n\n" % (len(data), fmt.encode()) + data
