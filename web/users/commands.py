"""`fs-cc user ...`: create, list, edit, disable, enable users and set their passwords.

A password comes from a prompt (typed twice) on a terminal, else the first line of standard
input, or is made up with ``--random`` and printed once. Errors name the field at fault.
The web package is imported when a command runs, not when the parser is built (as in
web.commands), so that `fs-cc --help` stays quick.
"""

import getpass
import json
import sys

LIST_COLUMNS = ("username", "role", "extension", "active", "display_name")


def _actor():
    return f"cli:{getpass.getuser()}"


def _run(work):
    """Run ``work(service)`` in the app with an AccountService acting as the CLI user."""
    from web import create_app
    from web.errors import WebError
    from web.extensions import db
    from web.users.views import account_service

    app = create_app()
    with app.app_context():
        try:
            return work(account_service(actor=_actor()))
        except WebError as exc:
            print(f"error: {exc.message}", file=sys.stderr)
            return 1
        finally:
            db.session.remove()


def _password(args, service):
    """(password, made up) from ``--random``, a prompt or standard input."""
    from web.auth.passwords import WeakPassword, random_password

    if args.random:
        return random_password(service.policy), True
    if sys.stdin.isatty():
        first = getpass.getpass("New password: ")
        if getpass.getpass("New password again: ") != first:
            raise WeakPassword("password: the two entries differ")
        return first, False
    return sys.stdin.readline().rstrip("\r\n"), False


def _print_made_up(username, password, made_up):
    if made_up:
        print(f"password of {username}: {password}\n(shown once: note it now)")


def cmd_create(args):
    """Create a user (password prompted, read from stdin, or --random)."""
    def work(service):
        data = {"username": args.username, "role": args.role,
                "display_name": args.display_name or ""}
        if args.extension:
            data["extension"] = args.extension
        if args.queues is not None:
            data["queues"] = _names(args.queues)
        password, made_up = _password(args, service)
        user = service.create(data, password)
        print(f"user {user.username} created with role {user.role.name}")
        _print_made_up(user.username, password, made_up)
        return 0

    return _run(work)


def cmd_list(args):
    """List the users with their role, extension and state."""
    def work(service):
        users = [{"username": user.username, "role": user.role.name,
                  "extension": user.extension, "active": user.active,
                  "display_name": user.display_name} for user in service.list()]
        if args.json:
            print(json.dumps(users, ensure_ascii=False))
            return 0
        for user in users:
            print("\t".join("" if user[column] is None else str(user[column])
                            for column in LIST_COLUMNS))
        return 0

    return _run(work)


def cmd_set(args):
    """Change a user's role, display name, extension ("" for none), queues or active flag."""
    def work(service):
        data = {}
        for option, field in (("role", "role"), ("display_name", "display_name"),
                              ("extension", "extension")):
            if getattr(args, option) is not None:
                data[field] = getattr(args, option)
        if args.queues is not None:
            data["queues"] = _names(args.queues)
        if args.active is not None:
            data["active"] = args.active
        if not data:
            print("error: nothing to change (see `fs-cc user set --help`)", file=sys.stderr)
            return 2
        user = service.update(service.by_username(args.username), data)
        print(f"user {user.username}: role {user.role.name}, extension "
              f"{user.extension or '-'}, {'active' if user.active else 'disabled'}")
        return 0

    return _run(work)


def _set_active(args, active):
    def work(service):
        user = service.by_username(args.username)
        service.enable(user) if active else service.disable(user)
        print(f"user {user.username} {'enabled' if active else 'disabled'}")
        return 0

    return _run(work)


def cmd_disable(args):
    """Disable a user: they can no longer log in or use their API token."""
    return _set_active(args, False)


def cmd_enable(args):
    """Enable a user again, with their role and password as they were."""
    return _set_active(args, True)


def cmd_passwd(args):
    """Set a user's password (prompted, read from stdin, or --random)."""
    def work(service):
        user = service.by_username(args.username)
        password, made_up = _password(args, service)
        service.reset_password(user, password)
        print(f"password of {user.username} set")
        _print_made_up(user.username, password, made_up)
        return 0

    return _run(work)


def _names(text):
    return [name.strip() for name in text.split(",") if name.strip()]


def register(user_sub):
    """Add the account subcommands to `fs-cc user`."""
    create = user_sub.add_parser("create", help=cmd_create.__doc__)
    create.add_argument("username")
    create.add_argument("--role", default="agent", help="a role's name (default: agent)")
    create.add_argument("--display-name", dest="display_name")
    create.add_argument("--extension", help="the agent extension to link (made when missing)")
    create.add_argument("--queues", help="comma-separated queues the agent serves")
    create.add_argument("--random", action="store_true", help="make up a password, print it")
    create.set_defaults(func=cmd_create)

    listing = user_sub.add_parser("list", help=cmd_list.__doc__)
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(func=cmd_list)

    for name in ("set", "edit"):
        edit = user_sub.add_parser(name, help=cmd_set.__doc__)
        edit.add_argument("username")
        edit.add_argument("--role")
        edit.add_argument("--display-name", dest="display_name")
        edit.add_argument("--extension", help='the agent extension ("" for none)')
        edit.add_argument("--queues", help='comma-separated queues, replacing ("" for none)')
        state = edit.add_mutually_exclusive_group()
        state.add_argument("--active", dest="active", action="store_true", default=None)
        state.add_argument("--inactive", dest="active", action="store_false")
        edit.set_defaults(func=cmd_set)

    for name, func in (("disable", cmd_disable), ("enable", cmd_enable)):
        command = user_sub.add_parser(name, help=func.__doc__)
        command.add_argument("username")
        command.set_defaults(func=func)

    for name in ("passwd", "reset-password"):
        passwd = user_sub.add_parser(name, help=cmd_passwd.__doc__)
        passwd.add_argument("username")
        passwd.add_argument("--random", action="store_true", help="make up a password, print it")
        passwd.set_defaults(func=cmd_passwd)
