"""Server-side sessions: revoked on logout and on demand, idle and absolute timeouts, cookie flags."""

import pytest
import sqlalchemy as sa

from tests.web.support import (FakeClock, app_on, create_user, database_url_for, dispose, login,
                               logout, post_form)
from web.auth.services import UserService
from web.auth.sessions import UserSession, revoke_user_sessions
from web.extensions import db

COOKIE = "session"


@pytest.fixture
def clock():
    """The app's clock, moved by the test."""
    return FakeClock()


@pytest.fixture
def app(tmp_path, migrated_databases, clock):  # noqa: F811
    """The testing app on SQLite with a 30 min idle and a 12 h absolute session timeout."""
    app = app_on(tmp_path, database_url_for(migrated_databases, "sqlite"), FS_CC_CLOCK=clock,
                 SESSION_IDLE_TIMEOUT=30 * 60, SESSION_MAX_AGE=12 * 3600)
    yield app
    dispose(app)


def saved_cookie(client):
    """The value of ``client``'s session cookie, as an attacker would copy it."""
    return client.get_cookie(COOKIE).value


def opens_calls(app, cookie):
    """Whether a fresh browser holding only ``cookie`` gets the calls page."""
    browser = app.test_client()
    browser.set_cookie(COOKIE, cookie)
    return browser.get("/calls").status_code == 200


def test_given_a_saved_cookie_when_its_user_logged_out_then_it_opens_nothing(app, client):
    _, username, password = create_user(app)
    login(client, username, password)
    cookie = saved_cookie(client)
    assert opens_calls(app, cookie)

    logout(client)

    assert not opens_calls(app, cookie)
    assert client.get("/calls").headers["Location"].startswith("/auth/login")


def test_given_two_browsers_when_the_users_sessions_are_revoked_then_both_log_in_again(app):
    user_id, username, password = create_user(app)
    first, second = app.test_client(), app.test_client()
    login(first, username, password)
    login(second, username, password)

    with app.app_context():
        revoked = revoke_user_sessions(UserService(db.session).get(user_id))

    assert revoked == 2
    assert first.get("/calls").status_code == 302 and second.get("/calls").status_code == 302


def test_given_except_current_when_revoking_then_only_the_other_browsers_are_logged_out(app):
    user_id, username, password = create_user(app)
    here, elsewhere = app.test_client(), app.test_client()
    login(here, username, password)
    login(elsewhere, username, password)

    with app.test_request_context(headers={"Cookie": f"{COOKIE}={saved_cookie(here)}"}):
        revoked = revoke_user_sessions(UserService(db.session).get(user_id),
                                       except_current=True)

    assert revoked == 1
    assert here.get("/calls").status_code == 200
    assert elsewhere.get("/calls").status_code == 302


def test_given_no_request_for_longer_than_the_idle_timeout_then_the_session_has_ended(
        app, client, clock):
    _, username, password = create_user(app)
    login(client, username, password)

    clock.advance(29 * 60)
    within = client.get("/calls").status_code
    clock.advance(29 * 60)  # 58 min after the login, 29 after the last request
    still = client.get("/calls").status_code
    clock.advance(31 * 60)
    after = client.get("/calls")

    assert (within, still) == (200, 200)
    assert after.status_code == 302 and after.headers["Location"].startswith("/auth/login")


def test_given_steady_use_when_the_absolute_timeout_passes_then_the_session_has_ended(
        app, client, clock):
    _, username, password = create_user(app)
    login(client, username, password)

    statuses = []
    for _ in range(12 * 3):  # a request every 20 minutes for 12 hours
        clock.advance(20 * 60)
        statuses.append(client.get("/calls").status_code)
    clock.advance(20 * 60)
    after = client.get("/calls").status_code

    assert statuses == [200] * 36
    assert after == 302


def test_given_an_expired_session_when_calling_a_json_route_then_401_asks_to_log_in(app, client,
                                                                                     clock):
    _, username, password = create_user(app)
    login(client, username, password)

    clock.advance(31 * 60)
    response = client.get("/api/me")

    assert response.status_code == 401
    assert response.get_json()["error"] == "authentication required"


def test_given_a_login_then_the_database_holds_a_hash_of_the_id_with_address_and_agent(app):
    user_id, username, password = create_user(app)
    client = app.test_client()
    client.environ_base.update(REMOTE_ADDR="192.0.2.44", HTTP_USER_AGENT="Firefox/140.0")
    login(client, username, password)

    with app.app_context():
        (row,) = db.session.execute(sa.select(UserSession)).scalars().all()
        stored = (row.user_id, row.client_addr, row.user_agent, row.revoked_at)
        id_hash = row.id_hash
    with app.test_request_context(headers={"Cookie": f"{COOKIE}={saved_cookie(client)}"}):
        from flask import session

        session_id = session["sid"]
    assert stored == (user_id, "192.0.2.44", "Firefox/140.0", None)
    assert session_id not in id_hash and len(id_hash) == 64
    assert "user_id" not in saved_cookie(client)


def test_given_a_logout_then_the_row_is_kept_and_marked_revoked(app, client):
    _, username, password = create_user(app)
    login(client, username, password)

    logout(client)

    with app.app_context():
        (row,) = db.session.execute(sa.select(UserSession)).scalars().all()
        assert row.revoked_at is not None


def set_cookie_header(response):
    """The Set-Cookie header of the session cookie in ``response``."""
    (header,) = [h for h in response.headers.getlist("Set-Cookie") if h.startswith(COOKIE + "=")]
    return header


def test_given_a_login_over_http_then_the_cookie_is_httponly_and_lax_not_secure(app, client):
    _, username, password = create_user(app)

    header = set_cookie_header(login(client, username, password))

    assert "HttpOnly" in header and "SameSite=Lax" in header
    assert "Secure" not in header


def test_given_a_login_over_https_then_the_cookie_is_secure(app):
    _, username, password = create_user(app)
    client = app.test_client()

    response = post_form(client, "/auth/login", {"username": username, "password": password},
                         base_url="https://localhost",
                         headers={"Referer": "https://localhost/auth/login"})
    header = set_cookie_header(response)

    assert "Secure" in header and "HttpOnly" in header


def test_given_the_secure_cookie_setting_then_the_cookie_is_secure_over_http(tmp_path,
                                                                            migrated_databases):
    app = app_on(tmp_path, database_url_for(migrated_databases, "sqlite"),
                 SESSION_COOKIE_SECURE=True)
    _, username, password = create_user(app)
    client = app.test_client()
    try:
        header = set_cookie_header(login(client, username, password))
    finally:
        dispose(app)

    assert "Secure" in header


def test_given_the_environment_setting_then_the_app_marks_cookies_secure(tmp_path):
    from fs_cc.config import load_settings

    settings = load_settings(env={"FS_CC_VAR_DIR": str(tmp_path),
                                  "FS_CC_SESSION_COOKIE_SECURE": "true",
                                  "FS_CC_SESSION_IDLE_MINUTES": "10",
                                  "FS_CC_SESSION_MAX_HOURS": "8"})
    from web import create_app

    app = create_app(settings=settings)

    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert (app.config["SESSION_IDLE_TIMEOUT"], app.config["SESSION_MAX_AGE"]) == (600, 28800)
