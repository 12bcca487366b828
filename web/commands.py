"""The web side's `fs-cc` subcommands: web, worker, db, user, dids (plugged in by entry point)."""

import json
import logging
import os
import sys

from web.ivr.commands import register as register_ivr_commands
from web.users.commands import register as register_user_commands

logger = logging.getLogger(__name__)


def cmd_web(args):
    """Serve the web app until SIGINT/SIGTERM."""
    import signal

    import gevent
    from gevent.event import Event
    from gevent.pywsgi import WSGIServer

    from fs_cc.listen import listen
    from web import create_app

    # the port first: a taken one is one line at once (PortUnavailable), before the app's set-up
    listener = listen(args.host, args.port, "--port")
    app = create_app()
    server = WSGIServer(listener, app, log=None, error_log=logging.getLogger("web.wsgi"))
    # the signals stop the server from the hub, as the engine's do: not a KeyboardInterrupt that
    # lands in whichever greenlet runs, nor a disposition "ignore" inherited from a background shell
    stop = Event()
    gevent.signal_handler(signal.SIGTERM, stop.set)
    gevent.signal_handler(signal.SIGINT, stop.set)
    server.start()
    logger.info("web app on http://%s:%s", args.host, args.port)
    stop.wait()
    server.stop(timeout=2)
    return 0


def cmd_worker(args):
    """Run the Celery worker (call records now; callbacks, SMS and reports later)."""
    from web.worker import run_worker

    return run_worker(args.celery_args or None)


def cmd_db_upgrade(args):
    """Migrate the database to the current schema."""
    from web import create_app, db_upgrade

    db_upgrade(create_app())
    print("database is at the current schema")
    return 0


def cmd_user_demo(args):
    """Create the admin at the first start; print its login (its password only then) and its
    demo API token (the same on every start) as JSON. FS_CC_ADMIN_PASSWORD sets that first
    password."""
    from web import bootstrap_demo, create_app
    from web.auth.passwords import WeakPassword

    try:
        demo = bootstrap_demo(create_app(), os.environ.get("FS_CC_ADMIN_PASSWORD") or None)
    except WeakPassword as exc:
        print(f"error: FS_CC_ADMIN_PASSWORD: {exc.message}", file=sys.stderr)
        return 1
    print(json.dumps(demo))
    return 0


def cmd_dids_import(args):
    """Import DID routes from a YAML file: all of them, or none when any row is bad."""
    from web import create_app
    from web.catalog.errors import CatalogError, ImportRejected
    from web.catalog.views import did_service
    from web.extensions import db

    try:
        with open(args.file, "rb") as handle:
            data = handle.read()
    except OSError as exc:
        print(f"error: {args.file}: cannot read: {exc.strerror}", file=sys.stderr)
        return 1
    app = create_app()
    with app.app_context():
        try:
            result = did_service().import_bytes(data, args.file)
        except ImportRejected as exc:
            for problem in exc.problems:
                print(f"error: {problem}", file=sys.stderr)
            print(f"{args.file}: {len(exc.problems)} problem(s), nothing imported",
                  file=sys.stderr)
            return 1
        except CatalogError as exc:
            print(f"error: {args.file}: {exc.message}", file=sys.stderr)
            return 1
        finally:
            db.session.remove()
    print(f"{args.file}: {len(result.created)} route(s) created, {len(result.updated)} updated"
          + (f", default {result.default_number}" if result.default_number else "")
          + f" (catalog version {result.version})")
    return 0


def register(sub):
    """Add the web side's subcommands to the `fs-cc` parser."""
    web = sub.add_parser("web", help=cmd_web.__doc__)
    web.add_argument("--host", default="127.0.0.1")
    web.add_argument("--port", type=int, default=5000)
    web.set_defaults(func=cmd_web)

    worker = sub.add_parser("worker", help=cmd_worker.__doc__)
    worker.add_argument("celery_args", nargs="*", help="extra arguments for `celery worker`")
    worker.set_defaults(func=cmd_worker)

    db = sub.add_parser("db", help="database tools")
    db_sub = db.add_subparsers(dest="db_command", required=True, metavar="COMMAND")
    db_sub.add_parser("upgrade", help=cmd_db_upgrade.__doc__).set_defaults(func=cmd_db_upgrade)

    user = sub.add_parser("user", help="users")
    user_sub = user.add_subparsers(dest="user_command", required=True, metavar="COMMAND")
    user_sub.add_parser("demo", help=cmd_user_demo.__doc__).set_defaults(func=cmd_user_demo)
    register_user_commands(user_sub)
    register_ivr_commands(sub.choices["ivr"].commands)  # `fs-cc ivr restore`

    dids = sub.add_parser("dids", help="DID routes of the catalog")
    dids_sub = dids.add_subparsers(dest="dids_command", required=True, metavar="COMMAND")
    dids_import = dids_sub.add_parser("import", help=cmd_dids_import.__doc__)
    dids_import.add_argument("file", help="YAML: routes: [{number, flow, description}], default")
    dids_import.set_defaults(func=cmd_dids_import)
