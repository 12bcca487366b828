"""The catalog admin pages: forms that save, errors beside their field, read-only for managers
and supervisors, 403 for agents; each saved change tells a real engine control server."""

import html
import re

import pytest

from fs_cc.control import ControlServer
from fs_cc.control.commands import ReloadCatalog
from tests.web.support import create_user, dispose, login, logout, make_settings, post_form
from tests.web.test_catalog_queue_settings import EVERY_SETTING, SORTED_RELAX
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
    ({"name": "vip", "strategy": "fastest", "moh": "m"}, 400, "strategy", "unknown queue"),
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


# the queue form with every setting of tests.web.test_catalog_queue_settings.EVERY_SETTING
EVERY_SETTING_FORM = {
    "name": "sales", "enabled": "on", "strategy": "round-robin", "moh": "local_stream://calm",
    "greeting": "sounds/welcome.wav", "announce_interval": "45", "max_wait": "300",
    "max_callers": "25", "exit_key": "#",
    "overflow-timeout-kind": "voicemail", "overflow-timeout-target": "sales",
    "overflow-full-kind": "queue", "overflow-full-target": "support",
    "overflow-exit_key-kind": "callback", "overflow-exit_key-target": "",
    "overflow-no_agents-kind": "hangup", "overflow-no_agents-target": "sounds/closed.wav",
    "wrap_up": "15", "ring_timeout": "18.5", "retry_delay": "4", "max_no_answer": "2",
    "service_level": "30", "record": "stereo", "skills": "english=5, 粤语=3",
    "relax-0-after": "60", "relax-0-minus": "", "relax-0-drop": "粤语",
    "relax-1-after": "30", "relax-1-minus": "2", "relax-1-drop": "",
    "relax-2-after": "120", "relax-2-minus": "", "relax-2-drop": "all",
    "relax-3-after": "", "relax-3-minus": "", "relax-3-drop": "",
    "closed": "on", "hours": "{tz: Asia/Shanghai, mon: ['09:00-18:00'], holidays: ['2026-10-01']}",
    "dispositions": "咨询 consultation\n投诉 complaint\nwrong number",
}


def stored_settings(app, name):
    """The settings of queue ``name`` as the database holds them."""
    with app.app_context():
        try:
            return QueueService(db.session, lambda version: None).get(name).settings()
        finally:
            db.session.remove()


def test_given_every_setting_in_the_queue_form_then_saved_and_shown_again(app, client, admin):
    response = post_form(client, "/catalog/queues/new", data=EVERY_SETTING_FORM)

    assert response.status_code == 302
    assert stored_settings(app, "sales") == {"name": "sales", **EVERY_SETTING,
                                             "skill_relax": SORTED_RELAX}
    shown = form_values(client.get("/catalog/queues/sales").get_data(as_text=True))
    assert {name: shown.get(name) for name in EVERY_SETTING_FORM if name != "name"} == {
        **{name: value for name, value in EVERY_SETTING_FORM.items() if name != "name"},
        # the steps come back in the order they apply, then empty rows for more
        "relax-0-after": "30", "relax-0-minus": "2", "relax-0-drop": "",
        "relax-1-after": "60", "relax-1-minus": "", "relax-1-drop": "粤语"}
    assert "announce_position" not in shown and "announce_wait" not in shown  # unchecked


def test_given_a_saved_queue_form_posted_again_unchanged_then_nothing_changes(app, client,
                                                                            admin):
    post_form(client, "/catalog/queues/new", data=EVERY_SETTING_FORM)
    before = stored_settings(app, "sales")
    page = client.get("/catalog/queues/sales").get_data(as_text=True)

    response = post_form(client, "/catalog/queues/sales", data=form_values(page))

    assert response.status_code == 302
    assert stored_settings(app, "sales") == before


def form_values(page):
    """What a browser would post from the page's queue form (inputs, checked boxes, selects,
    text areas)."""
    form = page.split('<form class="catalog-form"')[1].split("</form>")[0]
    values = {}
    for tag in re.findall(r"<input[^>]*>", form):
        name = re.search(r'name="([^"]+)"', tag)
        if name is None or ('type="checkbox"' in tag and "checked" not in tag):
            continue
        value = re.search(r'value="([^"]*)"', tag)
        values[name.group(1)] = html.unescape(value.group(1)) if value else "on"
    for name, options in re.findall(r'<select[^>]*name="([^"]+)"[^>]*>(.*?)</select>', form,
                                    re.S):
        chosen = re.search(r'<option value="([^"]*)" selected', options)
        values[name] = html.unescape(chosen.group(1)) if chosen else ""
    for name, text in re.findall(r'<textarea[^>]*name="([^"]+)"[^>]*>(.*?)</textarea>', form,
                                 re.S):
        values[name] = html.unescape(text)
    return values


def test_given_the_new_queue_form_then_it_shows_the_defaults_and_needs_no_inline_code(client,
                                                                                    admin):
    page = client.get("/catalog/queues/new").get_data(as_text=True)

    values = form_values(page)
    assert (values["service_level"], values["max_no_answer"], values["wrap_up"],
            values["ring_timeout"], values["record"]) == ("20", "3", "0", "", "")
    assert values["announce_position"] == "on" and values["strategy"] == "longest-idle"
    assert not re.search(r"<script(?![^>]*\bsrc=)", page)  # the CSP runs no inline script
    assert " style=" not in page and "<style" not in page


@pytest.mark.parametrize("entry, field, words", [
    ({"wrap_up": "-5"}, "wrap_up", "from 0 to"),
    ({"max_wait": "soon"}, "max_wait", "number of seconds"),
    ({"max_callers": "2.5"}, "max_callers", "whole number"),
    ({"announce_interval": "-1"}, "announce_interval", "from 0 to"),
    ({"ring_timeout": "-1"}, "ring_timeout", "from 0 to"),
    ({"retry_delay": "x"}, "retry_delay", "number of seconds"),
    ({"max_no_answer": "-1"}, "max_no_answer", "whole number"),
    ({"service_level": "20s"}, "service_level", "number of seconds"),
    ({"greeting": "g" * 256}, "greeting", "longer than 255"),
    ({"exit_key": "ab"}, "exit_key", "one DTMF key"),
    ({"record": "loud"}, "record", "off, mixed, stereo"),
    ({"overflow-timeout-kind": "queue"}, "overflow.timeout", "needs a queue name"),
    ({"overflow-full-target": "support"}, "overflow.full", "must be one of"),
    ({"skills": "english=11"}, "skills", "levels 1-10"),
    ({"relax-0-after": "", "relax-0-minus": "2"}, "skill_relax", "after must be a number"),
    ({"relax-0-after": "30"}, "skill_relax", "relaxes nothing"),
])
def test_given_a_wrong_setting_in_the_queue_form_then_its_error_is_beside_it_and_it_stays(
        app, client, admin, entry, field, words):
    response = post_form(client, "/catalog/queues/new",
                         data={"name": "vip", "strategy": "longest-idle", "moh": "m", **entry})

    text = response.get_data(as_text=True)
    assert response.status_code == 400
    assert words in (error_beside(text, field) or ""), text
    assert 'id="form-error"' not in text
    for name, value in entry.items():
        assert form_values(text)[name] == value  # what was typed stays in the form
    with app.app_context():
        assert QueueService(db.session, lambda version: None).find("vip") is None


def test_given_a_wrong_setting_when_editing_a_queue_then_beside_it_and_the_saved_stay(
        app, client, admin):
    post_form(client, "/catalog/queues/new", data=EVERY_SETTING_FORM)
    before = stored_settings(app, "sales")

    response = post_form(client, "/catalog/queues/sales",
                         data={**EVERY_SETTING_FORM, "wrap_up": "1", "max_callers": "-3"})

    assert response.status_code == 400
    assert "whole number" in error_beside(response.get_data(as_text=True), "max_callers")
    assert stored_settings(app, "sales") == before


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
