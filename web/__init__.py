"""The fs_cc web app: call records, agents' live state, and the JSON API (Flask app factory)."""

import logging
import pathlib

from flask import Flask, current_app, jsonify, redirect, render_template, request, url_for

from web.errors import WebError
from web.extensions import db, migrate
from web.security import check_secret_key, init_security
from web.timezone import display_timezone

logger = logging.getLogger(__name__)

MIGRATIONS_DIR = str(pathlib.Path(__file__).resolve().parent / "migrations")
DEMO_USERNAME = "admin"


def _config_from_settings(settings):
    return {
        "SECRET_KEY": settings.secret_key,
        "SQLALCHEMY_DATABASE_URI": settings.database_url,
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SECURE": settings.session_cookie_secure,
        # server-side sessions (web.auth.sessions), in seconds
        "SESSION_IDLE_TIMEOUT": settings.session_idle_minutes * 60,
        "SESSION_MAX_AGE": settings.session_max_hours * 3600,
        # login throttling (web.auth.throttle): failures before a delay, and the lockout
        "LOGIN_ACCOUNT_FREE_FAILURES": 3,
        "LOGIN_ACCOUNT_LOCKOUT_FAILURES": 10,
        "LOGIN_ADDRESS_FREE_FAILURES": 20,
        "LOGIN_ADDRESS_LOCKOUT_FAILURES": 100,
        "LOGIN_LOCKOUT_SECONDS": settings.login_lockout_minutes * 60,
        "FS_CC_CONTROL_URL": settings.control_url,
        "FS_CC_CONTROL_SECRET": settings.control_secret,
        "FS_CC_CONTROL_TIMEOUT": 2.0,
        # Time zone of the pages' times and of dates typed without an offset (IANA name).
        "DISPLAY_TIMEZONE": settings.display_timezone,
        # the browser softphone (web.desktop.softphone); None: derived from the page's host
        "SOFTPHONE_WSS_URL": settings.softphone_wss_url,
        "SOFTPHONE_SIP_DOMAIN": settings.softphone_sip_domain,
        "CALLS_PER_PAGE": 50,
        # the password policy's shortest password (web.auth.passwords)
        "PASSWORD_MIN_LENGTH": 10,
        "CALLS_MAX_LIMIT": 500,
        # The largest request body taken at all (a CRM import's 100 MB file and its form): a
        # bigger one is refused before anything reads it (413), whichever view it is for.
        "MAX_CONTENT_LENGTH": 101 * 1024 * 1024,
        "AGENTS_REFRESH_SECONDS": 5,
        # Backoff of the worker's tasks while the database is down: base * 2**n, capped.
        "RECORD_RETRY_BASE": 1.0,
        "RECORD_RETRY_MAX": settings.record_retry_max_seconds,
        "CELERY": {
            "broker_url": settings.broker_url,
            "task_ignore_result": True,
            "broker_connection_retry_on_startup": True,
            "worker_prefetch_multiplier": 1,
        },
    }


def create_app(test_config=None, settings=None):
    """Build the Flask app from fs_cc settings (loaded here when not given), then ``test_config``."""
    from fs_cc.control import ControlClient
    from fs_cc.control.engines import EngineRouter

    if settings is None:
        from fs_cc.config import load_settings

        settings = load_settings()
    app = Flask(__name__)
    app.config.from_mapping(_config_from_settings(settings))
    if test_config is not None:
        app.config.update(test_config)
    check_secret_key(app.config["SECRET_KEY"])
    init_security(app)
    app.json.ensure_ascii = False
    app.extensions["fs_cc_timezone"] = _timezone(app.config["DISPLAY_TIMEZONE"])
    app.add_template_filter(_local_time, "localtime")
    app.extensions["fs_cc_settings"] = settings

    db.init_app(app)
    migrate.init_app(app, db, directory=MIGRATIONS_DIR)
    app.extensions["fs_cc_control"] = EngineRouter(
        ControlClient(app.config["FS_CC_CONTROL_URL"], app.config["FS_CC_CONTROL_SECRET"],
                      timeout=app.config["FS_CC_CONTROL_TIMEOUT"]),
        _engine_registry(settings), app.config["FS_CC_CONTROL_SECRET"],
        app.config["FS_CC_CONTROL_TIMEOUT"])

    from web import models  # noqa: F401  (every model known to the metadata)
    from web.agents.views import bp as agents_bp
    from web.api.views import bp as api_bp
    from web.auth.views import bp as auth_bp
    from web.calls.views import bp as calls_bp
    from web.events.views import bp as events_bp

    for blueprint in (auth_bp, calls_bp, agents_bp, api_bp, events_bp):
        app.register_blueprint(blueprint)
    from web.catalog.api import bp as catalog_api_bp
    from web.catalog.views import bp as catalog_bp

    app.register_blueprint(catalog_bp)
    app.register_blueprint(catalog_api_bp)
    from web.callbacks.api import bp as callbacks_api_bp
    from web.callbacks.views import bp as callbacks_bp

    app.register_blueprint(callbacks_bp)
    app.register_blueprint(callbacks_api_bp)
    from web.messages.views import bp as messages_bp

    app.register_blueprint(messages_bp)
    from web.audit.views import bp as audit_bp
    from web.users.account import bp as account_bp
    from web.users.role_views import bp as roles_bp
    from web.users.views import bp as users_bp

    for blueprint in (users_bp, roles_bp, account_bp, audit_bp):
        app.register_blueprint(blueprint)
    from web.api.tokens import bp as tokens_bp
    from web.api.views import pages as api_docs_bp

    app.register_blueprint(tokens_bp)
    app.register_blueprint(api_docs_bp)
    from web.ivr.views import register as register_ivr_pages  # pages and statistics
    register_ivr_pages(app)
    from web.ivr.api import bp as ivr_api_bp  # flows, versions, validator (the editor's API)
    app.register_blueprint(ivr_api_bp)
    from web.crm.api import bp as crm_api_bp  # customers, search, lookup (web.crm)
    from web.crm.views import bp as crm_bp

    app.register_blueprint(crm_bp)
    app.register_blueprint(crm_api_bp)
    from web.crm.import_api import bp as crm_import_api_bp  # customer imports (web.crm)
    from web.crm.import_views import bp as crm_imports_bp

    app.register_blueprint(crm_imports_bp)
    app.register_blueprint(crm_import_api_bp)
    from web.crm.attachment_api import bp as crm_attachments_api_bp  # a customer's files
    from web.crm.attachment_views import bp as crm_attachments_bp
    from web.recordings.views import bp as recordings_bp  # a recording's audio

    for blueprint in (crm_attachments_bp, crm_attachments_api_bp, recordings_bp):
        app.register_blueprint(blueprint)
    from web.desktop.views import bp as desktop_api_bp  # the agent desktop (web.desktop)
    from web.desktop.views import pages as desktop_bp
    from web.desktop.softphone import bp as softphone_api_bp  # the browser softphone's settings

    app.register_blueprint(desktop_bp)
    app.register_blueprint(desktop_api_bp)
    app.register_blueprint(softphone_api_bp)
    from web.supervisor.views import bp as supervisor_api_bp  # the wallboard (web.supervisor)
    from web.supervisor.views import pages as supervisor_bp

    app.register_blueprint(supervisor_bp)
    app.register_blueprint(supervisor_api_bp)

    from web.chat.api import bp as chat_api_bp  # messages, notices (web.chat)
    from web.teams.api import bp as teams_api_bp  # teams (web.teams)
    from web.teams.views import bp as teams_bp

    for blueprint in (teams_bp, teams_api_bp, chat_api_bp):
        app.register_blueprint(blueprint)

    from web.exports.views import register as register_exports  # export jobs (web.exports)
    register_exports(app)
    app.register_error_handler(WebError, _handle_web_error)
    app.register_error_handler(404, _handle_not_found)
    app.register_error_handler(413, _handle_too_large)
    app.add_url_rule("/", "index", lambda: redirect(url_for("calls.index")))
    return app


def _engine_registry(settings):
    """Several engines share Redis state: the registry of their control addresses (else None)."""
    if not (settings.redis_url and settings.state_store == "redis"):
        return None
    import redis

    from fs_cc.registry import EngineRegistry

    return EngineRegistry(redis.Redis.from_url(settings.redis_url))


def _timezone(name):
    import zoneinfo

    from fs_cc.errors import ConfigError

    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        raise ConfigError(f"DISPLAY_TIMEZONE {name!r} is not a known time zone") from exc


def _local_time(value, fmt="%Y-%m-%d %H:%M:%S"):
    if value is None:
        return ""
    return value.astimezone(display_timezone()).strftime(fmt)


def _wants_json():
    return request.blueprint == "api" or request.path.startswith("/api/")


def _handle_web_error(exc):
    if _wants_json():
        return jsonify(exc.to_dict()), exc.status
    if exc.status == 401:
        return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
    return render_template("error.html", error=exc), exc.status


def _handle_not_found(exc):
    if _wants_json():
        return jsonify(error="not found", field=None), 404
    return render_template("error.html", error=WebError("Page not found.", status=404)), 404


def _handle_too_large(exc):
    limit = request.max_content_length or current_app.config["MAX_CONTENT_LENGTH"]
    message = f"request body: larger than the limit of {limit / 1048576:g} MB"
    if _wants_json():
        return jsonify(error=message, field=None), 413
    return render_template("error.html", error=WebError(message, status=413)), 413


def db_upgrade(app=None):
    """Run the database migrations up to head (``fs-cc db upgrade``)."""
    import flask_migrate

    app = app or create_app()
    with app.app_context():
        flask_migrate.upgrade(directory=MIGRATIONS_DIR)
    return app


def bootstrap_demo(app, admin_password=None):
    """Make the embedded default usable; return the admin's username, password and a token.

    The first start (no user called admin yet) creates the admin with ``admin_password``
    (checked by the password policy) or a random password; that is the only time ``password``
    is returned, else it is None. Later starts never change an existing user's password,
    state or role. An empty catalog gets the demo queues, agents and DID 4000
    (web.catalog.seed), and the agent 1000 a user ``agent1000`` (role agent) for the desktop,
    its password returned like the admin's, once (``agent``). ``token`` is the admin's demo
    API token, the same on every start (its secret kept in var/demo_token); None when the admin
    is disabled or revoked that token.
    """
    from web.auth.tokens import DEMO_TOKEN_FILE, keep_demo_token, token_service
    from web.catalog.notifier import EngineNotifier
    from web.catalog.seed import seed_demo_agent, seed_demo_catalog
    from web.users.views import account_service

    with app.app_context():
        user, password = account_service(actor="fs-cc up").ensure_first_admin(
            DEMO_USERNAME, admin_password)
        var_dir = app.extensions["fs_cc_settings"].var_dir
        token = (keep_demo_token(token_service(actor="fs-cc up"), user,
                                 var_dir / DEMO_TOKEN_FILE) if user.active else None)
        seed_demo_catalog(db.session, EngineNotifier(app.extensions["fs_cc_control"]),
                          app.extensions["fs_cc_settings"])
        agent_user, agent_password = seed_demo_agent(db.session,
                                                     account_service(actor="fs-cc up"))
    logger.info("admin %s %s", DEMO_USERNAME, "created" if password else "kept as it was")
    return {"username": DEMO_USERNAME, "password": password, "token": token,
            "agent": {"username": agent_user, "password": agent_password}}
