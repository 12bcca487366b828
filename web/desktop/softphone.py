"""The desktop's browser softphone: what its partial needs, and the agent's own SIP account
(GET /api/desktop/softphone), for the user's own extension only (permission desktop.use).

With a real FreeSWITCH configured (settings ``esl``) the desktop's phone is the softphone: SIP
over a secure WebSocket to the internal profile's ``wss-binding`` (freeswitch_conf/README.rst,
"Browser softphone"). On the embedded emulator the emulator answers for the agent's phone and
the partial only says so. App settings (all optional): ``SOFTPHONE_WSS_URL`` (default
``wss://<the page's host>:7443``) and ``SOFTPHONE_SIP_DOMAIN`` (the switch's ``$${domain}``;
default the WSS URL's host), from $FS_CC_SOFTPHONE_WSS_URL and $FS_CC_SOFTPHONE_SIP_DOMAIN;
``SOFTPHONE_ICE_SERVERS`` (RTCPeerConnection iceServers, default none),
``SOFTPHONE_REGISTER_SECONDS`` (default 300).
"""

import urllib.parse

from flask import Blueprint, current_app, g, jsonify, request, url_for
from marshmallow import Schema, fields

from fs_cc.directory import sip_password
from web.api.openapi import operation
from web.auth.decorators import permission_required
from web.desktop import sip_library
from web.errors import WebError
from web.security import CONTENT_SECURITY_POLICY

PERMISSION = "desktop.use"
TAG = "desktop"
WSS_PORT = 7443  # vanilla internal profile's wss-binding
REGISTER_SECONDS = 300
EMULATOR, SOFTPHONE, UNAVAILABLE = "emulator", "softphone", "unavailable"
PAGES = frozenset(("desktop.index",))  # the pages that hold the partial

bp = Blueprint("softphone_api", __name__, url_prefix="/api/desktop")


class SoftphoneSchema(Schema):
    """The agent's own SIP account on the switch, as the browser softphone registers it."""

    extension = fields.String(required=True)
    username = fields.String(required=True, metadata={"description": "SIP auth user"})
    password = fields.String(required=True, metadata={
        "description": "the agent's SIP password (derived from the control secret)"})
    uri = fields.String(required=True, metadata={"description": "sip:<extension>@<domain>"})
    display_name = fields.String(required=True)
    wss_url = fields.String(required=True, metadata={"description": "the switch's WSS binding"})
    ice_servers = fields.List(fields.Dict(), required=True)
    expires = fields.Integer(required=True, metadata={"description": "registration seconds"})


class SoftphoneUnavailable(WebError):
    """The request user has no softphone: no extension, or the emulator simulates the phone."""

    status = 409


def phone_mode(app=None):
    """``emulator`` (no real switch configured), ``softphone``, or ``unavailable`` (a real
    switch, but SIP.js was never fetched: ``python -m web.desktop.sip_library``)."""
    app = app or current_app
    settings = app.extensions.get("fs_cc_settings")
    if settings is None or settings.esl is None or settings.emulated:
        return EMULATOR
    return SOFTPHONE if sip_library.installed(app.static_folder) else UNAVAILABLE


def wss_url():
    """The switch's WSS address the browser connects to."""
    configured = current_app.config.get("SOFTPHONE_WSS_URL")
    if configured:
        return configured
    host = urllib.parse.urlsplit("//" + request.host).hostname or "127.0.0.1"
    if ":" in host:
        host = f"[{host}]"
    return f"wss://{host}:{WSS_PORT}"


def wss_origin():
    """The WSS URL's origin, for the page's Content-Security-Policy ``connect-src``."""
    parts = urllib.parse.urlsplit(wss_url())
    return f"{parts.scheme}://{parts.netloc}"


def softphone_context():
    """What desktop/_softphone.html needs: ``softphone=softphone_context()`` in the view."""
    return {"mode": phone_mode(),
            "config_url": url_for("softphone_api.account"),
            "library_url": url_for("static", filename=sip_library.ENTRY),
            "script_url": url_for("static", filename="softphone.js")}


def account_for(extension, display_name=None):
    """The SIP account of ``extension`` as the softphone registers it (SoftphoneSchema)."""
    url = wss_url()
    domain = (current_app.config.get("SOFTPHONE_SIP_DOMAIN")
              or urllib.parse.urlsplit(url).hostname)
    if ":" in domain:
        domain = f"[{domain}]"
    return {"extension": extension, "username": extension,
            "password": sip_password(current_app.config["FS_CC_CONTROL_SECRET"], extension),
            "uri": f"sip:{extension}@{domain}",
            "display_name": display_name or f"Agent {extension}",
            "wss_url": url,
            "ice_servers": list(current_app.config.get("SOFTPHONE_ICE_SERVERS") or []),
            "expires": int(current_app.config.get("SOFTPHONE_REGISTER_SECONDS")
                           or REGISTER_SECONDS)}


@bp.get("/softphone")
@permission_required(PERMISSION)
@operation(response=SoftphoneSchema, errors=(409,), tag=TAG)
def account():
    """The request user's own SIP account for the browser softphone (409: none to give)."""
    mode = phone_mode()
    if mode == EMULATOR:
        raise SoftphoneUnavailable("the emulator simulates the agent's phone: no softphone")
    extension = g.user.extension
    if not extension:
        raise SoftphoneUnavailable("this user has no extension: no phone to register")
    response = jsonify(account_for(extension, g.user.display_name))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.after_app_request
def allow_switch_connection(response):
    """Let the desktop page open its WebSocket to the switch (CSP ``connect-src``)."""
    if (request.endpoint in PAGES and "Content-Security-Policy" not in response.headers
            and phone_mode() == SOFTPHONE):
        response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY.replace(
            "connect-src 'self'", f"connect-src 'self' {wss_origin()}")
    return response
