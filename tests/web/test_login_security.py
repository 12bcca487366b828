"""Logging in under attack: throttling and lockout, unknown users, CSRF, the ``next`` target,
and every login logged and audited with the client's address."""

import logging

import pytest
import sqlalchemy as sa

from tests.web.support import (FakeClock, app_on, client_from, create_user, csrf_token,
                               database_url_for, dispose, login, logout, post_form)
from web.audit import actions
from web.audit.models import AuditEntry
from web.extensions import db


@pytest.fixture
def clock():
    """The app's clock, moved by the test instead of waited for."""
    return FakeClock()


@pytest.fixture
def app(tmp_path, migrated_databases, clock):  # noqa: F811
    """The testing app on the session's SQLite database, on a clock the test moves."""
    app = app_on(tmp_path, database_url_for(migrated_databases, "sqlite"), FS_CC_CLOCK=clock)
    yield app
    dispose(app)


def password_checks(monkeypatch):
    """A list that grows by one each time a password hash is checked (real or dummy)."""
    import web.auth.models
    import web.auth.services

    calls = []
    for module in (web.auth.models, web.auth.services):
        real = module.check_password_hash

        def counting(stored, password, real=real):
            calls.append(password)
            return real(stored, password)

        monkeypatch.setattr(module, "check_password_hash", counting)
    return calls


def guess_until_locked(client, clock, username, password="wrong", limit=30):
    """Guess wrong passwords, waiting whenever told to; return the Retry-After values seen."""
    waits = []
    for _ in range(limit):
        response = login(client, username, password)
        if response.status_code == 429:
            waits.append(int(response.headers["Retry-After"]))
            if waits[-1] >= 900:
                return waits
            clock.advance(waits[-1])
        else:
            assert response.status_code == 401
    raise AssertionError(f"never locked out; waits were {waits}")


def test_given_wrong_passwords_when_guessing_on_then_delays_grow_to_a_lockout_that_ends(
        app, client, clock):
    _, username, password = create_user(app)

    waits = guess_until_locked(client, clock, username)
    while_locked = login(client, username, password)
    clock.advance(899)
    still_locked = login(client, username, password)
    clock.advance(2)
    after = login(client, username, password)

    assert waits == [1, 2, 4, 8, 16, 32, 900]
    assert while_locked.status_code == 429 and still_locked.status_code == 429
    assert "Too many failed logins for this account; try again in 900 s." in (
        while_locked.get_data(as_text=True))
    assert after.status_code == 302 and after.headers["Location"] == "/calls"


def test_given_a_locked_account_when_trying_then_refused_before_any_password_is_hashed(
        app, client, clock, monkeypatch):
    _, username, password = create_user(app)
    guess_until_locked(client, clock, username)
    checks = password_checks(monkeypatch)

    responses = [login(client, username, password) for _ in range(5)]

    assert [r.status_code for r in responses] == [429] * 5
    assert checks == []


def test_given_a_good_login_after_some_failures_then_the_account_starts_afresh(app, client):
    _, username, password = create_user(app)
    for _ in range(3):
        login(client, username, "wrong")

    assert login(client, username, password).status_code == 302
    logout(client)
    statuses = [login(client, username, "wrong").status_code for _ in range(3)]

    assert statuses == [401, 401, 401]


def test_given_many_names_guessed_from_one_address_then_that_address_waits_and_others_do_not(
        app, clock):
    _, username, password = create_user(app)
    guesser = client_from(app, "198.51.100.7")
    neighbour = client_from(app, "198.51.100.8")

    statuses = [login(guesser, f"name{n}", "wrong").status_code for n in range(21)]
    refused = login(guesser, username, password)
    allowed = login(neighbour, username, password)

    assert statuses == [401] * 21
    assert refused.status_code == 429
    assert "Too many failed logins for your address" in refused.get_data(as_text=True)
    assert allowed.status_code == 302


def test_given_an_unknown_user_when_logging_in_then_a_password_hash_is_checked_all_the_same(
        app, client, monkeypatch):
    _, username, _ = create_user(app)
    checks = password_checks(monkeypatch)

    unknown = login(client, "nobody-here", "guess")
    known = login(client, username, "guess")

    assert unknown.status_code == known.status_code == 401
    assert checks == ["guess", "guess"]
    assert unknown.get_data(as_text=True).count("Invalid username or password.") == 1


def test_given_a_disabled_user_when_logging_in_then_the_password_is_checked_and_refused(
        app, client, monkeypatch):
    from web.auth.services import UserService

    _, username, password = create_user(app)
    with app.app_context():
        UserService(db.session).by_username(username).active = False
        db.session.commit()
    checks = password_checks(monkeypatch)

    response = login(client, username, password)

    assert response.status_code == 401 and checks == [password]


def test_given_no_csrf_token_when_posting_the_login_form_then_refused_and_no_session(app,
                                                                                    client):
    _, username, password = create_user(app)

    response = client.post("/auth/login", data={"username": username, "password": password})

    assert response.status_code == 400
    assert "csrf_token" in response.get_data(as_text=True)
    assert client.get("/api/me").status_code == 401


def test_given_a_token_of_another_session_when_posting_then_refused(app, client):
    _, username, password = create_user(app)
    foreign = csrf_token(app.test_client())

    response = client.post("/auth/login", data={"username": username, "password": password,
                                                "csrf_token": foreign})

    assert response.status_code == 400


def test_given_no_csrf_token_when_logging_out_then_refused_and_still_logged_in(app, client):
    _, username, password = create_user(app)
    login(client, username, password)

    response = client.post("/auth/logout")

    assert response.status_code == 400
    assert client.get("/api/me").status_code == 200


def test_given_no_csrf_token_when_posting_a_catalog_form_then_refused_and_nothing_made(
        app, client):
    _, username, password = create_user(app, role="admin")
    login(client, username, password)
    form = {"name": "sales", "strategy": "longest-idle", "moh": "m", "enabled": "on"}

    refused = client.post("/catalog/queues/new", data=form)
    listing = client.get("/catalog/queues").get_data(as_text=True)
    accepted = post_form(client, "/catalog/queues/new", form)

    assert refused.status_code == 400 and ">sales</a>" not in listing
    assert accepted.status_code == 302


def test_given_a_session_cookie_json_post_then_the_csrf_header_is_needed(app, client):
    _, username, password = create_user(app, role="admin")
    login(client, username, password)

    refused = client.post("/api/catalog/queues", json={"name": "sales"})
    accepted = client.post("/api/catalog/queues", json={"name": "sales"},
                           headers={"X-CSRFToken": csrf_token(client)})

    assert refused.status_code == 400
    assert refused.get_json()["field"] == "csrf_token"
    assert accepted.status_code == 201


def test_given_a_bearer_token_json_post_then_no_csrf_token_is_needed(app, client):
    from tests.web.support import create_token

    _, username, _ = create_user(app, role="admin")
    token = create_token(app, username)

    response = client.post("/api/catalog/queues", json={"name": "sales"},
                           headers={"Authorization": f"Bearer {token}"})

    assert response.status_code == 201


OPEN_REDIRECTS = ["/\t/evil.example", "/\\evil.example", "//evil", "https://evil.example",
                  "/%09/evil.example", "/\x00/evil.example", "/%5Cevil.example",
                  "/%2F/evil.example", "\\\\evil.example", "/\n/evil.example", " //evil",
                  "javascript:alert(1)", "http:/evil.example", "/\r\n/evil.example", "evil"]


@pytest.mark.parametrize("target", OPEN_REDIRECTS)
def test_given_a_next_target_off_the_site_when_logging_in_then_the_calls_page(app, client,
                                                                             target):
    _, username, password = create_user(app)

    response = login(client, username, password, next_url=target)

    assert response.status_code == 302
    assert response.headers["Location"] == "/calls"


@pytest.mark.parametrize("target", ["/agents", "/calls?queue=sales&page=2", "/catalog/dids"])
def test_given_a_local_next_target_when_logging_in_then_it_is_followed(app, client, target):
    _, username, password = create_user(app)

    response = login(client, username, password, next_url=target)

    assert response.headers["Location"] == target


def audit_entries(app, action):
    """(username, client_addr, detail) of the audit entries of ``action``, oldest first."""
    with app.app_context():
        rows = db.session.execute(sa.select(AuditEntry).where(AuditEntry.action == action)
                                  .order_by(AuditEntry.id)).scalars().all()
        return [(row.username, row.client_addr, row.detail) for row in rows]


def test_given_logins_and_a_logout_then_each_is_logged_and_audited_with_the_address(
        app, caplog):
    _, username, password = create_user(app)
    client = client_from(app, "203.0.113.9")
    caplog.set_level(logging.INFO, logger="web.auth.views")

    login(client, username, "wrong")
    login(client, username, password)
    logout(client)

    assert audit_entries(app, actions.LOGIN_FAILED) == [
        (username, "203.0.113.9", {"reason": "bad_credentials"})]
    assert audit_entries(app, actions.LOGIN) == [(username, "203.0.113.9", None)]
    assert audit_entries(app, actions.LOGOUT) == [(username, "203.0.113.9", None)]
    messages = [record.getMessage() for record in caplog.records]
    assert any("failed login" in m and username in m and "203.0.113.9" in m for m in messages)
    assert f"login of {username} from 203.0.113.9" in messages
    assert f"logout of {username} from 203.0.113.9" in messages


def test_given_a_locked_account_when_trying_then_the_refusal_is_audited_as_locked(app, client,
                                                                                  clock):
    _, username, password = create_user(app)
    guess_until_locked(client, clock, username)

    login(client, username, password)

    reasons = [detail["reason"] for _, _, detail in audit_entries(app, actions.LOGIN_FAILED)]
    assert reasons.count("bad_credentials") == 10
    assert reasons[-1] == "locked"
