"""`fs-cc ivr versions`, `diff` and `restore`, run in this process on a test app's database."""

import io
import pathlib
import shutil
import sys

import pytest

from fs_cc.cli import build_parser
from fs_cc.sounds import sound_prefix
from tests.test_catalog import write
from tests.web.support import (TEST_SECRET_KEY, app_on, create_user, database_url_for,  # noqa: F401
                               dispose, migrated_databases)
from web.auth.services import UserService
from web.extensions import db
from web.ivr.services import FlowEditor, FlowVersions

REPO = pathlib.Path(__file__).resolve().parents[2]
FIRST = """\
name: hotline
start: sales
nodes:
  sales: {type: queue, queue: sales}
"""
SECOND = FIRST.replace("queue: sales}", "queue: support}")


@pytest.fixture(scope="module")
def flows_and_sounds(tmp_path_factory):
    folder = tmp_path_factory.mktemp("ivr-cli")
    (folder / "flows").mkdir()
    shutil.copy(REPO / "ivr_flows" / "main.yaml", folder / "flows" / "main.yaml")
    shutil.copytree(REPO / "freeswitch_conf" / "sounds", folder / "sounds")
    return folder


@pytest.fixture
def app(tmp_path, migrated_databases, flows_and_sounds, monkeypatch):  # noqa: F811
    """The app on SQLite with queues sales and support, and flow hotline at versions 1 and 2
    (by admin1); the CLI's settings point at the same database, flows and sounds."""
    monkeypatch.setenv("FS_CC_IVR_FLOW", str(flows_and_sounds / "flows" / "main.yaml"))
    monkeypatch.setenv("FS_CC_SOUNDS_DIR", str(flows_and_sounds / "sounds"))
    app = app_on(tmp_path, database_url_for(migrated_databases, "sqlite"))
    settings = app.extensions["fs_cc_settings"]
    for name, value in (("FS_CC_DATABASE_URL", settings.database_url),
                        ("FS_CC_VAR_DIR", str(settings.var_dir)),
                        ("FS_CC_SECRET_KEY", TEST_SECRET_KEY),
                        ("FS_CC_CONTROL_PORT", str(settings.control_port))):
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("FS_CC_CONFIG", raising=False)
    write(app, "queues", "create", {"name": "sales"})
    write(app, "queues", "create", {"name": "support"})
    _, username, _ = create_user(app, role="admin", username="admin1")
    with app.app_context():
        editor = FlowEditor(db.session, flows_and_sounds / "flows",
                            sound_prefix(flows_and_sounds / "sounds"), lambda: None)
        user = UserService(db.session).by_username(username)
        editor.save("hotline", FIRST, user, comment="first")
        editor.save("hotline", SECOND, user, comment="to support", base_version=1)
    yield app
    (flows_and_sounds / "flows" / "hotline.yaml").unlink(missing_ok=True)
    dispose(app)


def run(monkeypatch, *argv):
    """(status, stdout, stderr) of `fs-cc ARGV` in this process."""
    out, err = io.StringIO(), io.StringIO()
    monkeypatch.setattr(sys, "stdout", out)
    monkeypatch.setattr(sys, "stderr", err)
    args = build_parser().parse_args(list(argv))
    return args.func(args), out.getvalue(), err.getvalue()


def versions(app):
    with app.app_context():
        return [(row.version, row.author, row.restored_from)
                for row in reversed(FlowVersions(db.session).history("hotline"))]


def test_given_two_versions_then_listed_with_author_and_note_and_diffed(app, monkeypatch):
    status, out, _ = run(monkeypatch, "ivr", "versions", "hotline")
    assert status == 0
    lines = out.splitlines()
    assert [line.split()[0] for line in lines] == ["1", "2"]
    assert "admin1" in lines[0] and lines[1].endswith("to support")

    status, out, _ = run(monkeypatch, "ivr", "diff", "hotline", "1", "2")
    assert status == 0
    assert "-  sales: {type: queue, queue: sales}\n+  sales: {type: queue, queue: support}" in out


def test_given_an_old_version_when_restored_then_a_new_current_version_holds_its_text(
        app, monkeypatch, flows_and_sounds):
    status, out, err = run(monkeypatch, "ivr", "restore", "hotline", "1")

    assert (status, err) == (0, "")
    assert out.startswith("flow hotline: version 3 is current (restored from version 1, by cli:")
    assert [(v, r) for v, _, r in versions(app)] == [(1, None), (2, None), (3, 1)]
    assert versions(app)[2][1].startswith("cli:")
    assert (flows_and_sounds / "flows" / "hotline.yaml").read_text(encoding="utf-8") == FIRST


def test_given_a_version_the_validator_refuses_today_when_restored_then_its_messages_and_no_change(
        app, monkeypatch, flows_and_sounds):
    write(app, "queues", "disable", "sales")

    status, out, err = run(monkeypatch, "ivr", "restore", "hotline", "1")

    assert (status, out) == (1, "")
    assert "hotline version 1:4:" in err and "unknown queue 'sales'" in err
    assert "nothing saved" in err
    assert [v for v, _, _ in versions(app)] == [1, 2]
    assert (flows_and_sounds / "flows" / "hotline.yaml").read_text(encoding="utf-8") == SECOND


def test_given_a_version_that_is_not_stored_when_restored_then_an_error_naming_it(
        app, monkeypatch):
    status, _, err = run(monkeypatch, "ivr", "restore", "hotline", "9")
    assert status == 1 and "flow hotline has no version 9" in err
