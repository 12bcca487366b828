"""`fs-cc user ...`: create, list, set, disable, enable, passwd, and `user demo`'s first start."""

import io
import json
import sys

import pytest

from fs_cc.cli import build_parser
from tests.web.support import TEST_SECRET_KEY, create_user, login
from web.audit.models import AuditEntry
from web.auth.services import UserService
from web.catalog.models import Agent
from web.extensions import db

STRONG = "violet-harbor-quartz-71"


@pytest.fixture
def cli(app, monkeypatch, tmp_path):
    """Run `fs-cc ARGS` in this process on the test app's database; returns (status, out, err).

    ``stdin`` is what the command reads (not a terminal, so a password is its first line).
    """
    settings = app.extensions["fs_cc_settings"]
    monkeypatch.setenv("FS_CC_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("FS_CC_VAR_DIR", str(settings.var_dir))
    monkeypatch.setenv("FS_CC_SECRET_KEY", TEST_SECRET_KEY)
    monkeypatch.setenv("FS_CC_CONTROL_PORT", str(settings.control_port))
    monkeypatch.delenv("FS_CC_ADMIN_PASSWORD", raising=False)
    monkeypatch.delenv("FS_CC_CONFIG", raising=False)

    def run(*argv, stdin=""):
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
        out, err = io.StringIO(), io.StringIO()
        monkeypatch.setattr(sys, "stdout", out)
        monkeypatch.setattr(sys, "stderr", err)
        args = build_parser().parse_args(list(argv))
        status = args.func(args)
        return status, out.getvalue(), err.getvalue()

    return run


def stored(app, username):
    """(role, extension, active) of ``username``, or None."""
    with app.app_context():
        user = UserService(db.session).by_username(username)
        return None if user is None else (user.role.name, user.extension, user.active)


def test_given_create_with_a_password_on_stdin_then_the_user_logs_in_with_it(app, cli):
    status, out, _ = cli("user", "create", "li", "--role", "supervisor", stdin=STRONG + "\n")

    assert status == 0 and "user li created with role supervisor" in out
    assert stored(app, "li") == ("supervisor", None, True)
    assert login(app.test_client(), "li", STRONG).status_code == 302
    with app.app_context():
        entry = db.session.execute(db.select(AuditEntry).where(
            AuditEntry.action == "user.created")).scalar_one()
        assert (entry.action, entry.target, entry.username[:4]) == ("user.created", "li", "cli:")


def test_given_create_random_then_the_printed_password_works(app, cli):
    status, out, _ = cli("user", "create", "wang", "--random", "--extension", "1007")

    password = out.split("password of wang: ")[1].split()[0]
    assert status == 0 and login(app.test_client(), "wang", password).status_code == 302
    assert stored(app, "wang") == ("agent", "1007", True)
    with app.app_context():
        assert db.session.execute(db.select(Agent.extension)).scalars().all() == ["1007"]


@pytest.mark.parametrize("argv, stdin, words", [
    (("user", "create", "zhao"), "short\n", "password: at least 10 characters"),
    (("user", "create", "zhao"), "zhao-zhao-zhao\n", "password: must not contain the user name"),
    (("user", "create", "zhao", "--role", "boss"), STRONG, "role: no role 'boss'"),
    (("user", "set", "nobody", "--role", "agent"), "", "username: no user 'nobody'"),
    (("user", "passwd", "nobody"), STRONG, "username: no user 'nobody'"),
])
def test_given_bad_input_then_an_error_naming_the_field_and_status_1(app, cli, argv, stdin, words):
    status, _, err = cli(*argv, stdin=stdin)

    assert status == 1 and words in err
    assert stored(app, "zhao") is None


def test_given_set_disable_enable_and_passwd_then_each_change_is_stored(app, cli):
    create_user(app, role="admin")  # someone who manages users stays
    _, username, old = create_user(app, role="agent")

    assert cli("user", "set", username, "--role", "manager", "--display-name", "Zhao")[0] == 0
    assert stored(app, username) == ("manager", None, True)
    assert cli("user", "disable", username)[0] == 0
    assert stored(app, username)[2] is False
    assert cli("user", "enable", username)[0] == 0
    assert cli("user", "passwd", username, stdin=STRONG + "\n")[0] == 0

    client = app.test_client()
    assert login(client, username, old).status_code == 401
    assert login(client, username, STRONG).status_code == 302
    assert stored(app, username) == ("manager", None, True)


def test_given_list_json_then_every_user_with_role_and_state(app, cli):
    create_user(app, role="admin", username="a1")
    create_user(app, role="agent", username="b2", extension="1009")

    status, out, _ = cli("user", "list", "--json")

    assert status == 0
    assert [(u["username"], u["role"], u["extension"], u["active"]) for u in json.loads(out)] == [
        ("a1", "admin", None, True), ("b2", "agent", "1009", True)]


def test_given_user_demo_twice_then_a_random_password_the_first_time_only(app, cli):
    status, out, _ = cli("user", "demo")
    first = json.loads(out)
    again = json.loads(cli("user", "demo")[1])

    assert status == 0 and first["password"] and first["password"] != "admin"
    assert again["password"] is None
    assert login(app.test_client(), "admin", first["password"]).status_code == 302


def test_given_a_weak_admin_password_in_the_environment_then_user_demo_refuses(app, cli,
                                                                              monkeypatch):
    monkeypatch.setenv("FS_CC_ADMIN_PASSWORD", "admin")

    status, out, err = cli("user", "demo")

    assert status == 1 and out == ""
    assert "FS_CC_ADMIN_PASSWORD" in err and "password:" in err
    assert stored(app, "admin") is None
