"""The app factory: settings loaded at build time, test_config on top, UTF-8 JSON."""

from tests.web.support import create_record, create_user, login
from web import create_app


def test_given_environment_settings_when_creating_the_app_then_it_uses_them(tmp_path,
                                                                           monkeypatch):
    monkeypatch.chdir(tmp_path)
    for name in ("FS_CC_CONFIG", "FS_CC_BROKER_URL", "REDIS_URL", "FS_CC_CONTROL_PORT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("FS_CC_VAR_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("FS_CC_DATABASE_URL", f"sqlite:///{tmp_path / 'env.sqlite'}")
    monkeypatch.setenv("FS_CC_SECRET_KEY", "from-the-environment-5f0c9a2e7b4d1836ae9f")

    app = create_app(test_config={"CALLS_PER_PAGE": 7})

    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'env.sqlite'}"
    assert app.config["SECRET_KEY"] == "from-the-environment-5f0c9a2e7b4d1836ae9f"
    assert app.config["CELERY"]["broker_url"] == f"sqla+sqlite:///{tmp_path / 'var' / 'broker.sqlite'}"
    assert app.config["FS_CC_CONTROL_URL"] == "http://127.0.0.1:8022"
    assert app.config["CALLS_PER_PAGE"] == 7


def test_given_importing_the_worker_module_then_no_settings_are_read(monkeypatch):
    import importlib
    from unittest import mock

    import fs_cc.config
    import web.worker

    spy = mock.create_autospec(fs_cc.config.load_settings)
    monkeypatch.setattr(fs_cc.config, "load_settings", spy)

    importlib.reload(web.worker)

    assert spy.call_count == 0


def test_given_chinese_text_when_served_as_json_then_utf8_not_escaped(app, client):
    _, username, password = create_user(app, role="admin")
    create_record(app, ivr_path=["欢迎", "投诉"])
    login(client, username, password)

    response = client.get("/api/calls")

    assert response.headers["Content-Type"] == "application/json"
    assert "欢迎".encode("utf-8") in response.data


def test_given_an_unknown_api_path_then_json_404(client):
    response = client.get("/api/nothing-here")

    assert response.status_code == 404
    assert response.get_json() == {"error": "not found", "field": None}
