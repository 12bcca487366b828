"""Teams: the API and admin page with their rules (one or more supervisors who may supervise,
a user in one team at most, names unique) on SQLite and PostgreSQL, migration 0018 down and up,
and the wallboard narrowed to a team's agents (the supervisor's own team by default)."""

import flask_migrate
import pytest
import sqlalchemy as sa

from tests.web.support import (
    app_on,
    create_token,
    create_user,
    database_url_for,
    dispose,
    login,
    make_app,
    post_form,
)
from tests.web.test_supervisor import seat  # noqa: F401 (the wallboard fixture)
from web import MIGRATIONS_DIR, db_upgrade
from web.catalog.models import Agent
from web.extensions import db

TEAM_TABLES = {"teams", "team_members", "team_supervisors", "chat_messages", "chat_notices",
               "chat_notice_acks"}


@pytest.fixture(params=["sqlite", "postgresql"])
def team_app(request, tmp_path, migrated_databases):
    """(app, Bearer headers of an admin, usernames by role) on each database."""
    app = app_on(tmp_path, database_url_for(migrated_databases, request.param))
    _, admin, _ = create_user(app, role="admin")
    names = {role: create_user(app, role=role)[1]
             for role in ("supervisor", "agent", "manager")}
    names["agent2"] = create_user(app, role="agent")[1]
    yield app, {"Authorization": f"Bearer {create_token(app, admin)}"}, names
    dispose(app)


def test_given_a_team_posted_then_it_lists_its_supervisors_and_members(team_app):
    app, admin, names = team_app
    client = app.test_client()

    created = client.post("/api/teams", headers=admin, json={
        "name": "Team A", "description": "day shift", "supervisors": [names["supervisor"]],
        "members": [names["agent"], names["agent2"]]})
    listed = client.get("/api/teams", headers=admin).get_json()["teams"]

    assert created.status_code == 201
    assert listed == [created.get_json()]
    assert created.get_json()["supervisors"] == [names["supervisor"]]
    assert created.get_json()["members"] == sorted([names["agent"], names["agent2"]])


@pytest.mark.parametrize("body, status, field", [
    ({"name": "B", "supervisors": []}, 400, "supervisors"),
    ({"name": "B"}, 400, "supervisors"),
    ({"name": "B", "supervisors": ["AGENT"]}, 400, "supervisors"),
    ({"name": "B", "supervisors": ["nobody-here"]}, 400, "supervisors"),
    ({"name": "", "supervisors": ["SUPERVISOR"]}, 400, "name"),
    ({"name": "Team A", "supervisors": ["SUPERVISOR"]}, 409, "name"),
    ({"name": "B", "supervisors": ["SUPERVISOR"], "members": ["AGENT"]}, 409, "members"),
    ({"name": "B", "supervisors": ["SUPERVISOR"], "colour": "red"}, 400, "colour"),
])
def test_given_a_team_breaking_a_rule_then_refused_naming_the_field(team_app, body, status,
                                                                    field):
    app, admin, names = team_app
    client = app.test_client()
    client.post("/api/teams", headers=admin, json={
        "name": "Team A", "supervisors": [names["supervisor"]], "members": [names["agent"]]})
    body = {key: [names.get(name.lower(), name) for name in value]
            if isinstance(value, list) else value for key, value in body.items()}

    answer = client.post("/api/teams", headers=admin, json=body)

    assert (answer.status_code, answer.get_json()["field"]) == (status, field)
    assert len(client.get("/api/teams", headers=admin).get_json()["teams"]) == 1


def test_given_a_team_changed_and_deleted_then_members_move_and_it_goes(team_app):
    app, admin, names = team_app
    client = app.test_client()
    team = client.post("/api/teams", headers=admin, json={
        "name": "Team A", "supervisors": [names["supervisor"]],
        "members": [names["agent"]]}).get_json()

    changed = client.patch(f"/api/teams/{team['id']}", headers=admin,
                           json={"members": [names["agent2"]], "name": "Team Z"})
    other = client.post("/api/teams", headers=admin, json={
        "name": "Team B", "supervisors": [names["supervisor"]], "members": [names["agent"]]})
    deleted = client.delete(f"/api/teams/{team['id']}", headers=admin)

    assert changed.get_json()["members"] == [names["agent2"]]
    assert changed.get_json()["name"] == "Team Z"
    assert other.status_code == 201
    assert deleted.get_json() == {"id": team["id"], "deleted": True}
    assert client.get(f"/api/teams/{team['id']}", headers=admin).status_code == 404


def test_given_a_supervisor_then_the_teams_api_is_refused(team_app):
    app, _, names = team_app
    headers = {"Authorization": f"Bearer {create_token(app, names['supervisor'])}"}

    answer = app.test_client().get("/api/teams", headers=headers)

    assert (answer.status_code, answer.get_json()["field"]) == (403, "permission")


def test_given_the_admin_page_then_a_team_is_created_and_a_bad_one_shows_its_field(app):
    _, admin, password = create_user(app, role="admin")
    _, leader, _ = create_user(app, role="supervisor")
    client = app.test_client()
    login(client, admin, password)

    empty = post_form(client, "/teams/new", {"name": "Team A"})
    made = post_form(client, "/teams/new", {"name": "Team A", "supervisors": leader},
                     follow_redirects=True)
    page = client.get("/teams").get_data(as_text=True)

    assert empty.status_code == 400 and 'data-field="supervisors"' in empty.get_data(
        as_text=True)
    assert made.status_code == 200
    assert 'data-team="Team A"' in page and leader in page
    assert 'href="/teams"' in page  # the nav link


def test_given_0018_when_downgrading_to_0017_and_up_again_then_its_tables_go_and_come_back(
        tmp_path, empty_database_url):
    app = make_app(tmp_path, empty_database_url)
    db_upgrade(app)

    with app.app_context():
        flask_migrate.downgrade(directory=MIGRATIONS_DIR, revision="0017")
        down = set(sa.inspect(db.engine).get_table_names())
        flask_migrate.upgrade(directory=MIGRATIONS_DIR)
        up = set(sa.inspect(db.engine).get_table_names())
        db.engine.dispose()
    assert not down & TEAM_TABLES
    assert TEAM_TABLES <= up


def _link_agents(app, users):
    """Catalog agents for the engine's extensions, linked to ``users`` {extension: user id}."""
    with app.app_context():
        for extension, user_id in users.items():
            db.session.add(Agent(extension=extension, name=f"Agent {extension}",
                                 user_id=user_id, skills={}))
        db.session.commit()


def test_given_teams_then_the_board_shows_the_supervisors_team_by_default_and_any_on_demand(
        seat):  # noqa: F811
    app, _, heads = seat
    admin_id, admin, _ = create_user(app, role="admin")
    admin_head = {"Authorization": f"Bearer {create_token(app, admin)}"}
    leader_id, leader, _ = create_user(app, role="supervisor")
    agent_ids = {ext: create_user(app, role="agent")[0] for ext in ("1000", "1001")}
    _link_agents(app, agent_ids)
    client = app.test_client()
    with app.app_context():
        from web.auth.models import User
        names = {ext: db.session.get(User, uid).username for ext, uid in agent_ids.items()}
    team = client.post("/api/teams", headers=admin_head, json={
        "name": "Team A", "supervisors": [leader], "members": [names["1001"]]}).get_json()
    client.post("/api/teams", headers=admin_head, json={
        "name": "Team B", "supervisors": [leader], "members": [names["1000"]]})
    leader_head = {"Authorization": f"Bearer {create_token(app, leader)}"}

    default = client.get("/api/supervisor/board", headers=leader_head).get_json()
    every = client.get("/api/supervisor/board?team=all", headers=leader_head).get_json()
    other = client.get("/api/supervisor/board", headers=heads["manager"]).get_json()
    missing = client.get("/api/supervisor/board?team=999", headers=leader_head)

    assert default["team"] == {"id": team["id"], "name": "Team A"}
    assert [agent["extension"] for agent in default["agents"]] == ["1001"]
    assert [call["agent"] for call in default["calls"]] == ["1001"]
    assert [t["name"] for t in default["teams"]] == ["Team A", "Team B"]
    assert every["team"] is None
    assert [agent["extension"] for agent in every["agents"]] == ["1000", "1001"]
    assert other["team"] is None and len(other["agents"]) == 2  # no team of their own
    assert (missing.status_code, missing.get_json()["field"]) == (404, "team")
    assert admin_id and leader_id


def test_given_the_wallboard_in_a_browser_then_a_notice_and_a_message_arrive_live(
        seat):  # noqa: F811
    from selenium.webdriver.common.by import By

    from tests.polling import wait_until
    from tests.web.browser import chromium_or_skip
    from tests.web.test_events_stream import web_server

    app, _, _ = seat
    _, leader, password = create_user(app, role="supervisor")
    _, agent, _ = create_user(app, role="agent")
    _, admin, _ = create_user(app, role="admin")
    with app.app_context():
        from web.teams.services import TeamService
        TeamService(db.session).create("Team A", supervisors=[leader], members=[agent])
    client = app.test_client()
    browser = chromium_or_skip()
    try:
        with web_server(app) as web:
            browser.get(f"{web}/auth/login?next=/supervisor")
            browser.find_element(By.ID, "username").send_keys(leader)
            browser.find_element(By.ID, "password").send_keys(password)
            browser.find_element(By.CSS_SELECTOR, "form.login button").click()
            wait_until(lambda: browser.execute_script(
                "var p = document.getElementById('chat-live'); return p && p.dataset.state;")
                == "open", timeout=15, what="the chat stream open")

            client.post("/api/notices", headers={"Authorization": f"Bearer "
                                                 f"{create_token(app, admin)}"},
                        json={"title": "Fire drill at 3"})
            client.post("/api/messages", headers={"Authorization": f"Bearer "
                                                  f"{create_token(app, agent)}"},
                        json={"to": leader, "body": "need help"})
            wait_until(lambda: "Fire drill at 3" in browser.execute_script(
                "return document.getElementById('chat-notices').textContent;"), timeout=10,
                what="the notice's banner")
            wait_until(lambda: "(1)" in browser.execute_script(
                "return document.getElementById('chat-conversations').textContent;"),
                timeout=10, what="one unread message")
            browser.find_element(By.CSS_SELECTOR, ".chat-notice button").click()
            wait_until(lambda: not browser.find_elements(By.CSS_SELECTOR, ".chat-notice"),
                       timeout=10, what="the banner gone once acknowledged")
            browser.find_element(By.CSS_SELECTOR, "#chat-conversations button").click()
            wait_until(lambda: "need help" in browser.execute_script(
                "return document.getElementById('chat-messages').textContent;"), timeout=10,
                what="the conversation")
            browser.find_element(By.ID, "chat-text").send_keys("on my way")
            browser.find_element(By.CSS_SELECTOR, "#chat-send button").click()
            wait_until(lambda: "on my way" in browser.execute_script(
                "return document.getElementById('chat-messages').textContent;"), timeout=10,
                what="the reply in the thread")
    finally:
        browser.quit()
