"""DID import from YAML: by `fs-cc dids import FILE` and by upload; every problem with file and
line, and nothing imported when any row is bad."""

import textwrap

import pytest

from fs_cc import cli
from tests.web.support import closed_port, create_user, login, post_form
from web.catalog.dids import DidService
from web.catalog.errors import ImportRejected
from web.catalog.rules import FlowDirectory
from web.extensions import db

GOOD = textwrap.dedent("""\
    # the demo numbers
    routes:
      - number: "4000"
        flow: main
        description: 总机
      - {number: "+8610086", flow: main, description: Hotline, enabled: false}
    default: main
    """)

BAD = textwrap.dedent("""\
    routes:
      - number: "4000"
        flow: main
      - number: 4001
        flow: main
      - number: "40 02"
        flow: main
      - number: "4003"
        flow: after_hours
      - number: "4000"
        flow: main
      - number: "4004"
        flow: main
        colour: red
      - just a string
    default: nowhere
    extra: 1
    """)


class Notices:
    """A service's ``notify``: remembers each version it hears."""

    def __init__(self):
        self.versions = []

    def __call__(self, version):
        self.versions.append(version)


@pytest.fixture
def dids(app):
    """(DidService over the repository's ivr_flows, notices), in the app's context."""
    notices = Notices()
    with app.app_context():
        yield DidService(db.session, notices, FlowDirectory(
            app.extensions["fs_cc_settings"].ivr_flow.parent)), notices
        db.session.remove()


def test_given_a_good_file_then_its_routes_are_created_the_default_marked_in_one_change(dids):
    service, notices = dids

    result = service.import_file(GOOD, "dids.yaml")

    assert result.created == ("4000", "+8610086") and result.updated == ()
    assert result.default_number == "4000"
    assert [(r.number, r.flow, r.description, r.enabled, r.is_default) for r in service.list()] == [
        ("+8610086", "main", "Hotline", False, False), ("4000", "main", "总机", True, True)]
    assert notices.versions == [1]


def test_given_existing_routes_when_importing_then_they_are_updated_and_the_default_moves(dids):
    service, _ = dids
    service.create({"number": "4000", "flow": "main", "description": "old", "default": True})
    service.create({"number": "5000", "flow": "main"})

    result = service.import_file(textwrap.dedent("""\
        routes:
          - {number: "5000", flow: main, description: new}
        default: main
        """), "dids.yaml")

    assert result.created == () and result.updated == ("5000",)
    assert service.get("5000").is_default and not service.get("4000").is_default
    assert service.get("4000").description == "old"  # a route not in the file stays as it was


def test_given_a_bad_file_then_every_problem_has_file_and_line_and_nothing_is_imported(dids):
    service, notices = dids
    service.create({"number": "9999", "flow": "main"})

    with pytest.raises(ImportRejected) as caught:
        service.import_file(BAD, "bad.yaml")

    found = [(p.path, p.line, p.message) for p in caught.value.problems]
    assert [line for _, line, _ in found] == [17, 4, 6, 9, 10, 14, 15, 16]
    assert all(path == "bad.yaml" for path, _, _ in found)
    messages = [message for _, _, message in found]
    assert "unknown key 'extra'" in messages[0]
    assert 'must be quoted, like "4001"' in messages[1]
    assert "digits" in messages[2]
    assert "no flow file after_hours.yaml" in messages[3]
    assert "number 4000 is given twice (first on line 2)" in messages[4]
    assert "unknown route key 'colour'" in messages[5]
    assert "a route must be a mapping" in messages[6]
    assert "no flow file nowhere.yaml" in messages[7]
    assert [route.number for route in service.list()] == ["9999"]
    assert notices.versions == [1]  # the create only
    assert caught.value.to_dict()["problems"][1] == {
        "file": "bad.yaml", "line": 4, "error": 'number 4001 must be quoted, like "4001"'}


def test_given_a_file_that_is_not_yaml_then_one_problem_with_its_line(dids):
    service, _ = dids

    with pytest.raises(ImportRejected) as caught:
        service.import_file("routes:\n  - number: \"4000\"\n    flow: [main\n", "broken.yaml")

    (problem,) = caught.value.problems
    assert problem.path == "broken.yaml" and problem.line == 4


def test_given_a_default_flow_no_route_uses_then_refused_at_the_default_line(dids):
    service, _ = dids

    with pytest.raises(ImportRejected) as caught:
        service.import_file("routes: []\ndefault: main\n", "d.yaml")

    (problem,) = caught.value.problems
    assert problem.line == 2 and "is the flow of no route in this file" in problem.message


@pytest.fixture
def admin(app, client):
    """``client`` logged in as an admin."""
    _, username, password = create_user(app, role="admin")
    login(client, username, password)


def upload(client, text, name):
    """POST ``text`` as file ``name`` to the DIDs page's import form."""
    import io

    return post_form(client, "/catalog/dids/import",
                     data={"file": (io.BytesIO(text.encode()), name)},
                     content_type="multipart/form-data")


def test_given_an_uploaded_good_file_then_the_dids_page_lists_its_routes(client, admin):
    response = upload(client, GOOD, "dids.yaml")

    assert response.status_code == 302
    page = client.get("/catalog/dids").get_data(as_text=True)
    assert "Imported dids.yaml: 2 new, 0 updated; default 4000." in page
    assert ">+8610086</a>" in page and "总机" in page


def test_given_an_uploaded_bad_file_then_each_problem_is_listed_and_nothing_imported(client,
                                                                                    admin):
    response = upload(client, BAD, "bad.yaml")

    text = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "8 problems, nothing imported:" in text
    assert "<li>bad.yaml:4: number 4001 must be quoted" in text
    assert "<li>bad.yaml:16: no flow file nowhere.yaml" in text
    assert "No routes yet." in text


def test_given_no_file_chosen_then_the_error_is_beside_the_file_input(client, admin):
    response = post_form(client, "/catalog/dids/import", data={},
                         content_type="multipart/form-data")

    assert response.status_code == 400
    assert 'id="error-file"' in response.get_data(as_text=True)


@pytest.fixture
def cli_env(app, monkeypatch, tmp_path):
    """The environment `fs-cc` reads, pointing at the test app's database; no engine."""
    monkeypatch.setenv("FS_CC_DATABASE_URL", app.config["SQLALCHEMY_DATABASE_URI"])
    monkeypatch.setenv("FS_CC_VAR_DIR", str(tmp_path / "cli-var"))
    monkeypatch.setenv("FS_CC_CONTROL_PORT", str(closed_port()))
    for name in ("FS_CC_CONFIG", "FS_CC_IVR_FLOW"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)


def test_given_the_cli_and_a_good_file_then_routes_imported_and_summarised(app, cli_env,
                                                                          tmp_path, capsys):
    path = tmp_path / "dids.yaml"
    path.write_text(GOOD, encoding="utf-8")

    status = cli.main(["dids", "import", str(path)])

    assert status == 0
    assert f"{path}: 2 route(s) created, 0 updated, default 4000" in capsys.readouterr().out
    with app.app_context():
        assert DidService(db.session, None, None).get("4000").is_default


def test_given_the_cli_and_a_bad_file_then_each_problem_on_stderr_and_status_1(app, cli_env,
                                                                              tmp_path, capsys):
    path = tmp_path / "bad.yaml"
    path.write_text(BAD, encoding="utf-8")

    status = cli.main(["dids", "import", str(path)])

    err = capsys.readouterr().err
    assert status == 1
    assert f"error: {path}:4: number 4001 must be quoted" in err
    assert f"error: {path}:17: unknown key 'extra'" in err
    assert f"{path}: 8 problem(s), nothing imported" in err
    with app.app_context():
        assert DidService(db.session, None, None).list() == []


def test_given_the_cli_and_a_missing_file_then_status_1_naming_it(cli_env, tmp_path, capsys):
    status = cli.main(["dids", "import", str(tmp_path / "nope.yaml")])

    assert status == 1 and "nope.yaml: cannot read" in capsys.readouterr().err
