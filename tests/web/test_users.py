"""Users: the admin pages create, edit, disable and enable users and set passwords; a user
changes their own; the first start makes the admin with a random password, later starts keep
every account as it is."""

import re

import pytest

from tests.web.support import create_user, login, logout, post_form
from web import bootstrap_demo
from web.auth.passwords import WeakPassword
from web.auth.services import UserService
from web.catalog.models import Agent
from web.catalog.notifier import EngineNotifier
from web.catalog.services import QueueService
from web.extensions import db
from web.users.errors import AccountError, Conflict
from web.users.views import account_service

STRONG = "violet-harbor-quartz-71"


@pytest.fixture
def admin(app, client):
    """A logged-in admin of ``client``; returns their username."""
    _, username, password = create_user(app, role="admin", username="boss")
    login(client, username, password)
    return username


@pytest.fixture
def sales(app):
    """Queues sales and support in the catalog."""
    with app.app_context():
        queues = QueueService(db.session, EngineNotifier(app.extensions["fs_cc_control"]))
        queues.create({"name": "sales"})
        queues.create({"name": "support"})


def user_row(app, username):
    """(role, extension, active, display name) of ``username`` as stored."""
    with app.app_context():
        user = UserService(db.session).by_username(username)
        return user.role.name, user.extension, user.active, user.display_name


def agent_of(app, username):
    """(extension, queues) of the catalog agent linked to ``username``, or None."""
    with app.app_context():
        user = UserService(db.session).by_username(username)
        agent = db.session.execute(db.select(Agent).where(Agent.user_id == user.id)).scalar()
        return None if agent is None else (agent.extension, sorted(agent.levels()))


def error_field(response):
    """The field an error on the page is shown beside."""
    match = re.search(r'data-field="([^"]+)"', response.get_data(as_text=True))
    return match.group(1) if match else None


def test_given_an_admin_when_creating_a_user_with_extension_and_queues_then_linked_to_the_agent(
        app, client, admin, sales):
    response = post_form(client, "/admin/users/new", {
        "username": "li.na", "display_name": "李娜", "role": "supervisor",
        "extension": "1001", "queues": ["sales", "support"], "password": STRONG})

    assert response.status_code == 302 and response.headers["Location"] == "/admin/users"
    assert user_row(app, "li.na") == ("supervisor", "1001", True, "李娜")
    assert agent_of(app, "li.na") == ("1001", ["sales", "support"])
    assert "li.na" in client.get("/admin/users").get_data(as_text=True)
    logout(client)
    assert login(client, "li.na", STRONG).status_code == 302


@pytest.mark.parametrize("form, field", [
    ({"username": "", "password": STRONG}, "username"),
    ({"username": "bad name!", "password": STRONG}, "username"),
    ({"username": "boss", "password": STRONG}, "username"),
    ({"username": "wang", "password": "short"}, "password"),
    ({"username": "wang", "password": "wang-password-1"}, "password"),
    ({"username": "wang", "password": "password1234"}, "password"),
    ({"username": "wang", "password": STRONG, "role": "overlord"}, "role"),
    ({"username": "wang", "password": STRONG, "extension": "12a"}, "extension"),
    ({"username": "wang", "password": STRONG, "queues": ["sales"]}, "queues"),
    ({"username": "wang", "password": STRONG, "extension": "1002", "queues": ["nope"]},
     "queues.nope"),
])
def test_given_a_bad_user_form_then_the_error_names_its_field_and_nothing_is_created(
        app, client, admin, sales, form, field):
    response = post_form(client, "/admin/users/new", dict({"role": "agent"}, **form))

    assert response.status_code in (400, 404, 409)
    assert error_field(response) == field
    with app.app_context():
        assert UserService(db.session).by_username("wang") is None
        assert db.session.execute(db.select(Agent)).scalars().all() == []


def test_given_a_user_when_the_admin_edits_role_extension_and_queues_then_saved(
        app, client, admin, sales):
    user_id, username, _ = create_user(app, role="agent")

    response = post_form(client, f"/admin/users/{user_id}", {
        "display_name": "Wang Fang", "role": "manager", "extension": "1003",
        "queues": ["support"], "active": "on"})
    assert response.status_code == 302
    assert user_row(app, username) == ("manager", "1003", True, "Wang Fang")
    assert agent_of(app, username) == ("1003", ["support"])

    post_form(client, f"/admin/users/{user_id}", {"display_name": "Wang Fang",
                                                  "role": "manager", "extension": "1004",
                                                  "queues": ["sales"], "active": "on"})
    assert agent_of(app, username) == ("1004", ["sales"])
    post_form(client, f"/admin/users/{user_id}", {"display_name": "Wang Fang",
                                                  "role": "manager", "extension": "",
                                                  "active": "on"})
    assert agent_of(app, username) is None and user_row(app, username)[1] is None


def test_given_an_agent_linked_to_someone_else_when_assigning_its_extension_then_conflict(
        app, client, admin, sales):
    first_id, _, _ = create_user(app)
    second_id, second, _ = create_user(app)
    post_form(client, f"/admin/users/{first_id}", {"role": "agent", "extension": "1005",
                                                   "active": "on"})

    response = post_form(client, f"/admin/users/{second_id}", {
        "role": "agent", "extension": "1005", "active": "on"})

    assert response.status_code == 409 and error_field(response) == "extension"
    assert agent_of(app, second) is None


def test_given_a_disabled_user_then_refused_at_login_until_enabled_with_password_and_role_kept(
        app, client, admin):
    user_id, username, password = create_user(app, role="supervisor")

    assert post_form(client, f"/admin/users/{user_id}/disable").status_code == 302
    other = app.test_client()
    assert login(other, username, password).status_code == 401
    assert user_row(app, username)[2] is False

    post_form(client, f"/admin/users/{user_id}/enable")
    assert login(other, username, password).status_code == 302
    assert user_row(app, username)[:3] == ("supervisor", None, True)


def test_given_the_admin_when_disabling_themselves_then_refused(app, client, admin):
    with app.app_context():
        admin_id = UserService(db.session).by_username(admin).id

    response = post_form(client, f"/admin/users/{admin_id}/disable")

    assert response.status_code == 400 and error_field(response) == "active"
    assert user_row(app, admin)[2] is True


def test_given_the_last_user_manager_when_demoted_then_refused(app, admin):
    with app.app_context(), app.test_request_context():
        service = account_service(actor="test")
        boss = service.by_username(admin)
        with pytest.raises(Conflict) as caught:
            service.update(boss, {"role": "manager"})
        assert caught.value.field == "role"
        db.session.expire_all()
        assert service.by_username(admin).role.name == "admin"


def test_given_an_admin_when_resetting_a_password_then_the_new_one_works_and_the_old_not(
        app, client, admin):
    user_id, username, old = create_user(app)

    weak = post_form(client, f"/admin/users/{user_id}/password", {"password": "12345678901"})
    assert weak.status_code == 400 and error_field(weak) == "password"
    done = post_form(client, f"/admin/users/{user_id}/password", {"password": STRONG})

    assert done.status_code == 302
    other = app.test_client()
    assert login(other, username, old).status_code == 401
    assert login(other, username, STRONG).status_code == 302


def test_given_a_user_when_changing_their_own_password_then_the_current_one_is_asked(app):
    client = app.test_client()
    _, username, old = create_user(app, role="agent")
    login(client, username, old)
    assert "current_password" in client.get("/account/password").get_data(as_text=True)

    wrong = post_form(client, "/account/password", {"current_password": "nope",
                                                    "password": STRONG, "confirm": STRONG})
    mismatch = post_form(client, "/account/password", {"current_password": old,
                                                       "password": STRONG, "confirm": "x"})
    weak = post_form(client, "/account/password", {"current_password": old,
                                                   "password": username + "-2026-ok",
                                                   "confirm": username + "-2026-ok"})
    done = post_form(client, "/account/password", {"current_password": old,
                                                   "password": STRONG, "confirm": STRONG})

    assert (wrong.status_code, error_field(wrong)) == (400, "current_password")
    assert (mismatch.status_code, error_field(mismatch)) == (400, "confirm")
    assert (weak.status_code, error_field(weak)) == (400, "password")
    assert done.status_code == 302
    other = app.test_client()
    assert login(other, username, old).status_code == 401
    assert login(other, username, STRONG).status_code == 302


def test_given_a_service_call_with_an_unknown_field_then_refused_naming_it(app):
    with app.app_context():
        with pytest.raises(AccountError) as caught:
            account_service().create({"username": "x", "colour": "red"}, STRONG)
    assert caught.value.field == "colour"


# the first start and the later ones

def test_given_a_fresh_database_when_bootstrapping_then_admin_with_a_random_password_once(app):
    first = bootstrap_demo(app)
    second = bootstrap_demo(app)

    assert first["username"] == "admin" and len(first["password"]) >= 20
    assert second["password"] is None
    client = app.test_client()
    assert login(client, "admin", "admin").status_code == 401
    assert login(client, "admin", first["password"]).status_code == 302
    assert client.get("/admin/users").status_code == 200


def test_given_a_changed_disabled_demoted_admin_when_bootstrapping_again_then_nothing_restored(
        app):
    first = bootstrap_demo(app)
    _, keeper, _ = create_user(app, role="admin")  # someone must still manage users
    with app.app_context():
        service = account_service(actor="test")
        admin = service.by_username("admin")
        service.reset_password(admin, STRONG)
        service.update(admin, {"role": "agent", "active": False})

    again = bootstrap_demo(app)

    assert again["password"] is None and again["token"] is None
    assert user_row(app, "admin")[:3] == ("agent", None, False)
    with app.app_context():
        admin = UserService(db.session).by_username("admin")
        assert admin.check_password(STRONG) and not admin.check_password(first["password"])


def test_given_an_admin_password_from_the_environment_then_it_is_the_first_one(app):
    demo = bootstrap_demo(app, admin_password=STRONG)

    assert demo["password"] == STRONG
    assert login(app.test_client(), "admin", STRONG).status_code == 302


def test_given_a_weak_admin_password_from_the_environment_then_refused_and_no_admin(app):
    with pytest.raises(WeakPassword) as caught:
        bootstrap_demo(app, admin_password="admin")

    assert caught.value.field == "password"
    with app.app_context():
        assert UserService(db.session).by_username("admin") is None
