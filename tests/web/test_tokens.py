"""API tokens: named, several per user, shown once, stored hashed, revoked and expired with a
401 that says so, audited; the demo token of the embedded default survives restarts, and so
does the admin's changed password; migration 0008 carries the old single token over."""

import datetime
import hashlib
import json
import os
import re
import stat
import subprocess
import sys

import flask_migrate
import pytest
import sqlalchemy as sa

from tests.web.support import (FakeClock, closed_port, create_token, create_user, login,
                               make_app, post_form)
from web import MIGRATIONS_DIR, bootstrap_demo, create_app, db_upgrade
from web.audit.models import AuditEntry
from web.auth.models import ApiToken
from web.auth.services import UserService
from web.auth.tokens import DEMO_TOKEN_FILE, token_service
from web.extensions import db

STRONG = "violet-harbor-quartz-71"
SECRET = re.compile(r'<code id="new-token-secret">([^<]+)</code>')


def bearer(secret):
    """The header of an API call with ``secret``."""
    return {"Authorization": f"Bearer {secret}"}


def me(client, secret):
    """GET /api/me with ``secret``: (status, JSON)."""
    response = client.get("/api/me", headers=bearer(secret))
    return response.status_code, response.get_json()


def logged_in(app, role="agent", username=None):
    """A client logged in as a new user of ``role``; returns (client, username)."""
    _, username, password = create_user(app, role=role, username=username)
    client = app.test_client()
    assert login(client, username, password).status_code == 302
    return client, username


def create_on_page(client, name, expires_days="30"):
    """POST the new-token form; returns (response, secret shown or None)."""
    response = post_form(client, "/account/tokens", {"name": name, "expires_days": expires_days})
    match = SECRET.search(response.get_data(as_text=True))
    return response, match.group(1) if match else None


def token_row(app, name):
    """The stored token called ``name``, detached, as a dict of its columns."""
    with app.app_context():
        row = db.session.execute(sa.select(ApiToken).where(ApiToken.name == name)).scalar_one()
        return {column.name: getattr(row, column.name) for column in ApiToken.__table__.columns}


def audit_actions(app):
    """(action, target) of every audit entry about tokens, oldest first."""
    with app.app_context():
        return [(entry.action, entry.target) for entry in db.session.execute(
            sa.select(AuditEntry).where(AuditEntry.action.like("token.%"))
            .order_by(AuditEntry.id)).scalars()]


# created and shown once, stored hashed

def test_given_the_tokens_page_when_creating_one_then_its_secret_is_shown_once_and_works(app):
    client, username = logged_in(app, role="supervisor")

    response, secret = create_on_page(client, "CRM sync")

    assert response.status_code == 200 and secret.startswith("fscc_")
    assert response.headers["Cache-Control"] == "no-store"
    status, body = me(app.test_client(), secret)
    assert (status, body["username"], body["role"]) == (200, username, "supervisor")
    again = client.get("/account/tokens").get_data(as_text=True)
    assert "CRM sync" in again and secret not in again and secret[:12] in again
    row = token_row(app, "CRM sync")
    assert row["token_hash"] == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in json.dumps({k: str(v) for k, v in row.items()})
    assert row["expires_at"] - row["created_at"] == datetime.timedelta(days=30)
    assert audit_actions(app) == [("token.created", f"{username}: CRM sync")]


def test_given_two_tokens_of_one_user_then_each_works_and_revoking_one_keeps_the_other(app):
    client, username = logged_in(app)
    _, first = create_on_page(client, "first")
    _, second = create_on_page(client, "second")

    post_form(client, f"/account/tokens/{token_row(app, 'first')['id']}/revoke")

    status, body = me(app.test_client(), first)
    assert status == 401 and body["field"] == "Authorization"
    assert body["error"].startswith("API token 'first' was revoked at ")
    assert me(app.test_client(), second)[0] == 200
    assert token_row(app, "first")["revoked_by"] == username
    assert [action for action, _ in audit_actions(app)] == [
        "token.created", "token.created", "token.revoked"]


@pytest.mark.parametrize("name, expires_days, status, field", [
    ("", "30", 400, "name"),
    ("x" * 65, "30", 400, "name"),
    ("ok", "0", 400, "expires_days"),
    ("ok", "abc", 400, "expires_days"),
    ("ok", "99999", 400, "expires_days"),
])
def test_given_a_bad_form_when_creating_then_the_field_is_named_and_nothing_made(
        app, name, expires_days, status, field):
    client, _ = logged_in(app)

    response, secret = create_on_page(client, name, expires_days)

    assert response.status_code == status and secret is None
    assert f'data-field="{field}"' in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.execute(sa.select(sa.func.count()).select_from(ApiToken)).scalar() == 0


def test_given_an_active_token_of_that_name_when_creating_another_then_409(app):
    client, _ = logged_in(app)
    create_on_page(client, "ci")

    response, secret = create_on_page(client, "ci")

    assert response.status_code == 409 and secret is None


def test_given_no_expiry_chosen_then_the_token_never_expires(app):
    client, _ = logged_in(app)

    create_on_page(client, "forever", expires_days="")

    assert token_row(app, "forever")["expires_at"] is None


# refused with the reason

def test_given_an_expired_token_then_401_saying_it_expired(app):
    clock = FakeClock()
    app.config["FS_CC_CLOCK"] = clock
    _, username, _ = create_user(app)
    secret = create_token(app, username, name="weekly", expires_days=7)
    assert me(app.test_client(), secret)[0] == 200

    clock.advance(7 * 86400)
    status, body = me(app.test_client(), secret)

    assert status == 401 and body["field"] == "Authorization"
    assert body["error"].startswith("API token 'weekly' expired at ")


def test_given_a_disabled_user_then_their_token_answers_401_saying_so(app):
    _, username, _ = create_user(app)
    secret = create_token(app, username, name="bot")
    with app.app_context():
        UserService(db.session).by_username(username).active = False
        db.session.commit()

    status, body = me(app.test_client(), secret)

    assert status == 401 and "belongs to a disabled user" in body["error"]


def test_given_a_token_then_it_has_exactly_its_users_permissions_as_they_change(app, client):
    _, username, _ = create_user(app, role="agent")
    secret = create_token(app, username)

    before = client.get("/api/catalog/queues", headers=bearer(secret))
    with app.app_context():
        user = UserService(db.session).by_username(username)
        user.role = UserService(db.session).role("supervisor")
        db.session.commit()
    after = client.get("/api/catalog/queues", headers=bearer(secret))

    assert before.status_code == 403 and before.get_json()["field"] == "permission"
    assert after.status_code == 200


def test_given_uses_of_a_token_then_its_last_use_is_written_at_most_once_a_minute(app):
    clock = FakeClock()
    app.config["FS_CC_CLOCK"] = clock
    _, username, _ = create_user(app)
    secret = create_token(app, username, name="poller")
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = "192.0.2.7"
    assert token_row(app, "poller")["last_used_at"] is None
    used = clock.now

    me(client, secret)
    first = token_row(app, "poller")["last_used_at"]
    clock.advance(30)
    me(client, secret)
    unchanged = token_row(app, "poller")["last_used_at"]
    clock.advance(31)
    me(client, secret)

    assert first == used and unchanged == used
    assert token_row(app, "poller")["last_used_at"] == clock.now
    assert token_row(app, "poller")["last_used_addr"] == "192.0.2.7"


# who manages which tokens

def test_given_another_users_token_when_revoking_it_from_ones_account_then_404_and_it_works(app):
    _, owner, _ = create_user(app)
    secret = create_token(app, owner, name="theirs")
    client, _ = logged_in(app)

    response = post_form(client, f"/account/tokens/{token_row(app, 'theirs')['id']}/revoke")

    assert response.status_code == 404
    assert me(app.test_client(), secret)[0] == 200


def test_given_an_admin_then_they_see_and_revoke_any_users_token(app):
    _, owner, _ = create_user(app)
    secret = create_token(app, owner, name="integration")
    admin, admin_name = logged_in(app, role="admin")

    listing = admin.get("/admin/tokens").get_data(as_text=True)
    response = post_form(admin, f"/admin/tokens/{token_row(app, 'integration')['id']}/revoke")

    assert owner in listing and "integration" in listing
    assert response.status_code == 302
    assert me(app.test_client(), secret)[0] == 401
    assert token_row(app, "integration")["revoked_by"] == admin_name
    assert audit_actions(app)[-1] == ("token.revoked", f"{owner}: integration")


def test_given_a_token_when_it_tries_to_create_a_token_then_403(app, client):
    _, username, _ = create_user(app, role="admin")
    secret = create_token(app, username)

    response = client.post("/account/tokens", data={"name": "more"}, headers=bearer(secret))

    assert response.status_code == 403
    with app.app_context():
        assert db.session.execute(sa.select(sa.func.count()).select_from(ApiToken)).scalar() == 1


# the demo token of the embedded default

def test_given_bootstrap_twice_then_the_same_demo_token_kept_in_a_private_file(app, client):
    first = bootstrap_demo(app)
    second = bootstrap_demo(app)

    path = app.extensions["fs_cc_settings"].var_dir / DEMO_TOKEN_FILE
    assert first["token"] == second["token"] == path.read_text().strip()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert me(client, second["token"])[1]["role"] == "admin"
    with app.app_context():
        assert db.session.execute(sa.select(sa.func.count()).select_from(ApiToken)).scalar() == 1


def test_given_the_demo_token_revoked_then_later_starts_do_not_bring_it_back(app, client):
    first = bootstrap_demo(app)
    with app.app_context():
        service = token_service(actor="test")
        service.revoke(service.by_secret(first["token"]))

    again = bootstrap_demo(app)

    assert again["token"] is None
    assert me(client, first["token"])[0] == 401


def test_given_the_demo_token_file_removed_then_a_new_token_and_the_old_one_revoked(app, client):
    first = bootstrap_demo(app)
    (app.extensions["fs_cc_settings"].var_dir / DEMO_TOKEN_FILE).unlink()

    again = bootstrap_demo(app)

    assert again["token"] and again["token"] != first["token"]
    assert me(client, first["token"])[0] == 401 and me(client, again["token"])[0] == 200


def _fs_cc(tmp_path, env, *argv):
    result = subprocess.run([sys.executable, "-m", "fs_cc.cli", *argv], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_given_two_starts_on_one_var_dir_then_the_demo_token_and_a_changed_password_hold(
        tmp_path):
    var = tmp_path / "var"
    env = {key: value for key, value in os.environ.items()
           if not key.startswith("FS_CC_") or key == "FS_CC_REQUIRE_SERVICES"}
    env.update(FS_CC_VAR_DIR=str(var), FS_CC_CONTROL_PORT=str(closed_port()))

    # the first start, as `fs-cc up` runs it: migrate, then the demo bootstrap
    _fs_cc(tmp_path, env, "db", "upgrade")
    first = json.loads(_fs_cc(tmp_path, env, "user", "demo"))
    app = create_app(test_config={"TESTING": True}, settings=_settings(env))
    client = app.test_client()
    assert login(client, "admin", first["password"]).status_code == 302
    changed = post_form(client, "/account/password", {
        "current_password": first["password"], "password": STRONG, "confirm": STRONG})
    assert changed.status_code == 302
    _dispose(app)

    # the second start on the same var/ and database
    _fs_cc(tmp_path, env, "db", "upgrade")
    second = json.loads(_fs_cc(tmp_path, env, "user", "demo"))
    app = create_app(test_config={"TESTING": True}, settings=_settings(env))
    try:
        assert second["password"] is None and second["token"] == first["token"]
        assert me(app.test_client(), first["token"])[0] == 200
        assert login(app.test_client(), "admin", STRONG).status_code == 302
        assert login(app.test_client(), "admin", first["password"]).status_code == 401
    finally:
        _dispose(app)


def _settings(env):
    from fs_cc.config import load_settings

    return load_settings(env=env)


def _dispose(app):
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


# migration 0008

def _at_0007_with_a_token(tmp_path, url, secret):
    app = make_app(tmp_path, url)
    with app.app_context():
        flask_migrate.upgrade(directory=MIGRATIONS_DIR, revision="0007")
        with db.engine.begin() as connection:
            role_id = connection.execute(sa.text(
                "SELECT id FROM roles WHERE name = 'manager'")).scalar_one()
            connection.execute(sa.text(
                "INSERT INTO users (username, display_name, password_hash, role_id, "
                "api_token_hash, active, created_at) VALUES ('old', 'Old', 'x', :role, :hash, "
                ":active, :now)"), {"role": role_id, "active": True, "now": "2026-01-01 00:00:00",
                                   "hash": hashlib.sha256(secret.encode()).hexdigest()})
        db.engine.dispose()
    return app


def test_given_a_users_single_token_when_migrating_to_0008_then_it_works_and_comes_back_down(
        tmp_path, empty_database_url):
    secret = "old-style-token-from-before-0008"
    app = _at_0007_with_a_token(tmp_path, empty_database_url, secret)

    db_upgrade(app)
    status, body = me(app.test_client(), secret)
    row = token_row(app, "API token")
    with app.app_context():
        columns = {c["name"] for c in sa.inspect(db.engine).get_columns("users")}
        flask_migrate.downgrade(directory=MIGRATIONS_DIR, revision="0007")
        with db.engine.connect() as connection:
            back = connection.execute(sa.text(
                "SELECT api_token_hash FROM users WHERE username = 'old'")).scalar_one()
            tables = set(sa.inspect(connection).get_table_names())
        db.engine.dispose()

    assert status == 200 and body["username"] == "old" and body["role"] == "manager"
    assert row["token_hash"] == hashlib.sha256(secret.encode()).hexdigest()
    assert row["prefix"] is None and row["revoked_at"] is None and row["expires_at"] is None
    assert "api_token_hash" not in columns
    assert back == hashlib.sha256(secret.encode()).hexdigest()
    assert "api_tokens" not in tables

