"""The catalog admin pages: forms that save, errors beside their field, read-only for managers
and supervisors, 403 for agents; each saved change tells a real engine control server."""

import html
import re

import pytest

from fs_cc.control import ControlServer
from fs_cc.control.commands import ReloadCatalog
from tests.web.support import create_user, dispose, login, logout, make_settings, post_form
from web import create_app
from web.catalog.services import QueueService
from web.extensions import db


def as_role(app, client, role):
    """Log ``client`` in as a fresh user holding ``role``."""
    _, username, password = create_user(app, role=role)
    login(client, username, password)


@pytest.fixture
def admin(app, client):
    """``client`` logged in as an admin."""
    as_role(app, client, "admin")


def error_beside(text, field):
    """The message shown beside ``field`` (the span after its input), or None."""
    match = re.search(rf'<span class="notice error field-error" id="error-{re.escape(field)}"'
                      rf'[^>]*>([^<]*)</span>', text)
    return html.unescape(match.group(1)) if match else None


def test_given_an_admin_when_creating_a_queue_then_redirected_to_the_list_showing_it(client,
                                                                                   admin):
    response = post_form(client, "/catalog/queues/new", data={
        "name": "sales", "strategy": "longest-idle", "moh": "local_stream://moh",
        "enabled": "on"})

    assert response.status_code == 302 and response.location.endswith("/catalog/queues")
    page = client.get("/catalog/queues").get_data(as_text=True)
    assert "Queue sales created." in page and ">sales</a>" in page


@pytest.mark.parametrize("data, status, field, words", [
    ({"name": "bad name", "strategy": "longest-idle", "moh": "m"}, 400, "name", "letters"),
    ({"name": "vip", "strategy": "fastest", "moh": "m"}, 400, "strategy", "unknown strategy"),
    ({"name": "vip", "strategy": "longest-idle", "moh": ""}, 400, "moh", "required"),
    ({"name": "sales", "strategy": "longest-idle", "moh": "m"}, 409, "name", "taken"),
])
def test_given_a_bad_queue_form_then_the_error_is_shown_beside_its_field(app, client, admin,
                                                                        data, status, field,
                                                                        words):
    post_form(client, "/catalog/queues/new", data={"name": "sales", "strategy": "longest-idle",
                                           "moh": "m"})

    response = post_form(client, "/catalog/queues/new", data=data)

    text = response.get_data(as_text=True)
    assert response.status_code == status
    assert words in (error_beside(text, field) or "")
    assert f'value="{data["name"]}"' in text  # what was typed stays in the form


def test_given_an_agent_form_with_a_level_of_0_then_the_error_is_beside_the_queues(client, admin):
    post_form(client, "/catalog/queues/new", data={"name": "sales", "strategy": "longest-idle",
                                           "moh": "m", "enabled": "on"})

    response = post_form(client, "/catalog/agents/new", data={
        "extension": "1000", "name": "李娜", "queue-sales": "on", "level-sales": "0",
        "skills": "english=5", "enabled": "on"})

    text = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "queues.sales must be from 1" in error_beside(text, "queues")
    assert 'value="李娜"' in text and 'value="english=5"' in text


@pytest.mark.parametrize("skills, words", [("english=11", "skills.english must be from 1 to 10"),
                                           ("english", "'english' is not skill=level"),
                                           ("english=high", "skills.english must be a whole")])
def test_given_bad_skills_then_the_error_is_beside_the_skills(client, admin, skills, words):
    response = post_form(client, "/catalog/agents/new",
                         data={"extension": "1000", "skills": skills})

    assert response.status_code == 400
    assert words in error_beside(response.get_data(as_text=True), "skills")


def test_given_an_agent_saved_through_the_form_then_its_queues_skills_and_user_are_listed(
        app, client, admin):
    user_id, username, _ = create_user(app, role="agent", username="lina")
    for name in ("sales", "support"):
        post_form(client, "/catalog/queues/new", data={"name": name, "strategy": "longest-idle",
                                               "moh": "m", "enabled": "on"})
    post_form(client, "/catalog/agents/new", data={
        "extension": "1000", "name": "李娜", "user_id": str(user_id), "queue-sales": "on",
        "level-sales": "1", "queue-support": "on", "level-support": "2",
        "skills": "english=5, 粤语=3", "enabled": "on"})

    response = post_form(client, "/catalog/agents/1000", data={
        "name": "李娜", "user_id": str(user_id), "queue-support": "on", "level-support": "2",
        "skills": "english=6", "enabled": "on"})

    assert response.status_code == 302
    page = client.get("/catalog/agents").get_data(as_text=True)
    assert "support (2)" in page and "sales (1)" not in page
    assert "english=6" in page and ">lina<" in page


def test_given_a_supervisor_then_pages_read_only_and_posts_refused(app, client, admin):
    post_form(client, "/catalog/queues/new", data={"name": "sales", "strategy": "longest-idle",
                                           "moh": "m", "enabled": "on"})
    logout(client)
    as_role(app, client, "supervisor")

    listing = client.get("/catalog/queues").get_data(as_text=True)
    form = client.get("/catalog/queues/sales").get_data(as_text=True)
    post = post_form(client, "/catalog/queues/sales",
                     data={"strategy": "longest-idle", "moh": "x"})

    assert ">sales</a>" in listing and "New queue" not in listing
    assert "<fieldset disabled>" in form and "<button" not in form.split("<main>")[1].split(
        "</form>")[0]
    assert post.status_code == 403
    assert client.get("/catalog/queues/new").status_code == 403


@pytest.mark.parametrize("path", ["/catalog/queues", "/catalog/agents", "/catalog/dids"])
def test_given_an_agent_when_opening_the_catalog_then_403(app, client, path):
    as_role(app, client, "agent")

    assert client.get(path).status_code == 403


@pytest.mark.parametrize("path", ["/catalog/queues", "/catalog/agents", "/catalog/dids"])
def test_given_a_manager_then_the_catalog_lists_open(app, client, path):
    as_role(app, client, "manager")

    assert client.get(path).status_code == 200


def test_given_a_did_form_with_an_unknown_flow_then_the_error_is_beside_the_flow(client, admin):
    response = post_form(client, "/catalog/dids/new", data={"number": "4000", "flow": "nope"})

    text = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "no flow file nope.yaml" in error_beside(text, "flow")
    assert "nope (no such file)" in text


def test_given_an_unknown_queue_page_then_404(client, admin):
    assert client.get("/catalog/queues/nope").status_code == 404


class RecordingEngine:
    """An engine backend (fs_cc.control.ControlBackend) that remembers the commands it gets."""

    def __init__(self):
        self.commands = []

    def agents(self):
        return []

    def queues(self):
        return []

    def calls(self):
        return []

    def execute(self, command):
        self.commands.append(command)
        return {"reloaded": True}


def test_given_a_running_engine_when_an_admin_saves_a_queue_then_the_engine_is_told_to_reload(
        tmp_path, migrated_databases):
    backend = RecordingEngine()
    server = ControlServer(backend, host="127.0.0.1", port=0, secret="control-secret")
    server.start()
    settings = make_settings(tmp_path, migrated_databases["sqlite"],
                             control_port=server.address[1])
    settings.control_secret = "control-secret"
    app = create_app(test_config={"TESTING": True}, settings=settings)
    try:
        with app.app_context():
            for table in reversed(db.metadata.sorted_tables):
                db.session.execute(table.delete())
            db.session.commit()
        client = app.test_client()
        as_role(app, client, "admin")

        post_form(client, "/catalog/queues/new", data={"name": "sales", "strategy": "longest-idle",
                                               "moh": "m", "enabled": "on"})

        assert backend.commands == [ReloadCatalog()]
        with app.app_context():
            assert QueueService(db.session, lambda version: None).find("sales") is not None
    finally:
        server.stop(timeout=1)
        dispose(app)
