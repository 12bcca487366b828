"""`fs-cc ivr restore FLOW VERSION`: a stored version made current again, as the web's restore.

The web's FlowEditor does the work (web.ivr.services): the old text is checked again by the
validator against today's queues and flows, stored as a new version (author ``cli:USER``,
``restored from``), written to the flow's file, and the engines are told to reload. An invalid
text is refused with each of the validator's messages, and nothing changes.
"""

import dataclasses
import getpass
import sys
import typing


@dataclasses.dataclass(frozen=True)
class CliAuthor:
    """Who restored, for the version and the audit log: the user at the terminal."""

    username: str
    id: typing.Optional[int] = None


def cmd_ivr_restore(args):
    """Make a stored version of an IVR flow current again, as a new version (validated first)."""
    from fs_cc.sounds import sound_prefix
    from web import create_app
    from web.errors import WebError
    from web.extensions import db
    from web.ivr.services import FlowEditor, FlowRefused, engine_notifier, flows_folder

    app = create_app()
    with app.app_context():
        settings = app.extensions["fs_cc_settings"]
        editor = FlowEditor(db.session, flows_folder(settings), sound_prefix(settings.sounds_dir),
                            engine_notifier(app.extensions["fs_cc_control"]))
        try:
            row = editor.restore(args.name, args.version, CliAuthor(f"cli:{getpass.getuser()}"))
        except FlowRefused as exc:
            for message in exc.messages:
                print(f"{args.name} version {args.version}:{message['line']}:{message['column']}:"
                      f" {message['severity']}: {message['message']}", file=sys.stderr)
            print(f"error: {exc.message}", file=sys.stderr)
            return 1
        except WebError as exc:
            print(f"error: {exc.message}", file=sys.stderr)
            return 1
        else:
            print(f"flow {args.name}: version {row.version} is current (restored from version "
                  f"{args.version}, by {row.author}, sha256 {row.sha256[:12]})")
            return 0
        finally:
            db.session.remove()


def register(ivr_commands):
    """Add `restore` to the `fs-cc ivr` subcommands (fs_cc.cli builds the others)."""
    restore = ivr_commands.add_parser("restore", help=cmd_ivr_restore.__doc__)
    restore.add_argument("name", help="the flow's name")
    restore.add_argument("version", type=int, help="the stored version to make current again")
    restore.set_defaults(func=cmd_ivr_restore)
