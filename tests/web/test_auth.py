"""Login, logout, roles, and API authentication."""

import pytest

from tests.web.support import create_token, create_user, login, logout


def test_given_good_credentials_when_logging_in_then_redirected_to_calls_with_a_session(app, client):
    _, username, password = create_user(app, role="manager")

    response = login(client, username, password)

    assert response.status_code == 302
    assert response.headers["Location"] == "/calls"
    me = client.get("/api/me").get_json()
    assert {key: me[key] for key in ("username", "role", "extension")} == {
        "username": username, "role": "manager", "extension": None}
    assert "calls.view_all" in me["permissions"] and "users.manage" not in me["permissions"]


def test_given_wrong_password_when_logging_in_then_clear_message_and_no_session(app, client):
    _, username, _ = create_user(app)

    response = login(client, username, "not-the-password")

    assert response.status_code == 401
    assert "Invalid username or password." in response.get_data(as_text=True)
    assert client.get("/api/me").status_code == 401


def test_given_unknown_user_when_logging_in_then_same_message(client):
    response = login(client, "nobody", "whatever")

    assert response.status_code == 401
    assert "Invalid username or password." in response.get_data(as_text=True)


def test_given_a_stored_user_then_the_password_is_hashed(app):
    from web.auth.services import UserService
    from web.extensions import db

    _, username, password = create_user(app, password="plain-text-pw")

    with app.app_context():
        user = UserService(db.session).by_username(username)
        assert "plain-text-pw" not in user.password_hash
        assert user.check_password("plain-text-pw")


def test_given_a_next_url_when_logging_in_then_only_local_targets_are_followed(app, client):
    _, username, password = create_user(app)

    local = login(client, username, password, next_url="/calls?queue=sales")
    logout(client)
    foreign = login(client, username, password, next_url="//evil.example/")

    assert local.headers["Location"] == "/calls?queue=sales"
    assert foreign.headers["Location"] == "/calls"


def test_given_a_session_when_logging_out_then_pages_ask_for_login_again(app, client):
    _, username, password = create_user(app)
    login(client, username, password)

    logout(client)
    response = client.get("/calls")

    assert response.status_code == 302
    assert response.headers["Location"].startswith("/auth/login?next=")


def test_given_an_inactive_user_when_logging_in_then_refused(app, client):
    from web.auth.services import UserService
    from web.extensions import db

    _, username, password = create_user(app)
    with app.app_context():
        UserService(db.session).by_username(username).active = False
        db.session.commit()

    assert login(client, username, password).status_code == 401


def test_given_a_bearer_token_when_calling_the_api_then_authenticated(app, client):
    _, username, _ = create_user(app, role="supervisor")
    token = create_token(app, username)

    response = client.get("/api/me", headers={"Authorization": f"Bearer {token}"})

    assert response.status_code == 200
    assert response.get_json()["username"] == username


def test_given_a_wrong_token_when_calling_the_api_then_401_json(app, client):
    response = client.get("/api/calls", headers={"Authorization": "Bearer not-a-token"})

    assert response.status_code == 401
    assert response.get_json()["field"] == "Authorization"
    assert "API token not recognised" in response.get_json()["error"]


def test_given_a_second_token_when_created_then_both_work(app, client):
    _, username, _ = create_user(app)
    first = create_token(app, username)
    second = create_token(app, username)

    assert client.get("/api/me", headers={"Authorization": f"Bearer {first}"}).status_code == 200
    assert client.get("/api/me", headers={"Authorization": f"Bearer {second}"}).status_code == 200


@pytest.mark.parametrize("role, status", [("admin", 200), ("manager", 200),
                                          ("supervisor", 200), ("agent", 403)])
def test_given_a_role_when_opening_the_agents_api_then_allowed_or_403(engine, app, client, role,
                                                                        status):
    _, username, _ = create_user(app, role=role)
    token = create_token(app, username)

    response = client.get("/api/agents", headers={"Authorization": f"Bearer {token}"})

    assert response.status_code == status
    if status == 403:
        assert response.get_json() == {
            "error": "role agent may not do this: it needs the permission agents.view",
            "field": "permission"}


def test_given_an_agent_when_opening_the_agents_page_then_403_page(app, client):
    _, username, password = create_user(app, role="agent", extension="1000")
    login(client, username, password)

    response = client.get("/agents")

    assert response.status_code == 403
    assert "may not do this" in response.get_data(as_text=True)


def test_given_demo_bootstrap_when_run_twice_then_one_admin_with_the_same_working_token(app, client):
    from web import bootstrap_demo

    first = bootstrap_demo(app)
    second = bootstrap_demo(app)

    assert first["username"] == second["username"] == "admin"
    assert first["password"] and first["password"] != "admin"
    assert second["password"] is None  # shown once, at the first start only
    assert first["token"] == second["token"]  # integrations keep working across restarts
    assert login(client, "admin", "admin").status_code == 401
    assert login(client, "admin", first["password"]).status_code == 302
    me = client.get("/api/me", headers={"Authorization": f"Bearer {second['token']}"})
    assert me.get_json()["role"] == "admin"


def test_given_an_app_without_a_hash_setting_then_passwords_are_hashed_with_scrypt(tmp_path):
    # the suite's apps name a cheap method (tests/web/support.py); a deployment does not
    from web import create_app
    from web.auth.models import User, hash_method
    from tests.web.support import make_settings

    app = create_app(test_config={"TESTING": True},
                     settings=make_settings(tmp_path, f"sqlite:///{tmp_path}/x.sqlite"))
    with app.app_context():
        assert hash_method() == "scrypt"
        user = User(username="li")
        user.set_password("plain-text-pw")
        assert user.password_hash.startswith("scrypt:") and user.check_password("plain-text-pw")
    assert hash_method() == "scrypt"  # outside any app, too
