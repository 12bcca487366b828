"""The desktop's browser softphone: its partial, the agent's SIP account, the page's CSP, and the
pinned SIP.js step (web/desktop/softphone.py, web/desktop/sip_library.py)."""

import base64
import dataclasses
import hashlib
import io
import pathlib
import subprocess
import tarfile

import pytest
from flask import render_template
from openapi_spec_validator import validate

from fs_cc.config import EslTarget
from fs_cc.directory import sip_password
from tests.web.support import CONTROL_SECRET, create_token, create_user, login
from web.desktop import sip_library, softphone

AGENT = "1007"


def use_softphone_api(app):
    """The softphone blueprint on app (web/__init__.py registers it once it is wired in)."""
    if "softphone_api" not in app.blueprints:
        app.register_blueprint(softphone.bp)
    return app


def with_real_switch(app):
    """Settings naming a real FreeSWITCH, as FS_CC_ESL_URL does."""
    settings = app.extensions["fs_cc_settings"]
    app.extensions["fs_cc_settings"] = dataclasses.replace(
        settings, esl=EslTarget("127.0.0.1", 8021, "a-switch-password"))
    return app


def fetched_library(app, tmp_path):
    """A static folder holding the pinned SIP.js as the fetch step leaves it."""
    static = tmp_path / "static"
    folder = sip_library.folder(static)
    folder.mkdir(parents=True)
    (folder / "index.js").write_text("export const UserAgent = null;\n")
    (folder / sip_library.STAMP).write_text(sip_library.INTEGRITY + "\n")
    app.static_folder = str(static)
    return app


def partial(app):
    """desktop/_softphone.html as the desktop view renders it."""
    with app.test_request_context("/desktop"):
        return render_template("desktop/_softphone.html", softphone=softphone.softphone_context())


@pytest.fixture
def agent_client(app, client):
    use_softphone_api(app)
    _, username, password = create_user(app, role="agent", extension=AGENT)
    login(client, username, password)
    return client


# --- the partial ------------------------------------------------------------------------

def test_given_the_emulator_when_partial_rendered_then_phone_simulated_and_no_softphone_script(app):
    html = partial(use_softphone_api(app))

    assert "Phone: simulated by the emulator" in html
    assert 'data-mode="emulator"' in html
    assert "softphone.js" not in html


def test_given_up_running_the_emulator_at_the_esl_url_when_partial_rendered_then_phone_simulated(
        app, tmp_path):
    # fs-cc up gives its processes FS_CC_ESL_URL (the emulator's) and FS_CC_EMULATED=1
    app = fetched_library(with_real_switch(use_softphone_api(app)), tmp_path)
    app.extensions["fs_cc_settings"] = dataclasses.replace(app.extensions["fs_cc_settings"],
                                                           emulated=True)
    html = partial(app)

    assert 'data-mode="emulator"' in html and "softphone.js" not in html


def test_given_a_real_switch_when_partial_rendered_then_softphone_script_and_its_urls(app, tmp_path):
    html = partial(fetched_library(with_real_switch(use_softphone_api(app)), tmp_path))

    assert 'data-mode="softphone"' in html
    assert 'data-config-url="/api/desktop/softphone"' in html
    assert f'data-library="/static/{sip_library.ENTRY}"' in html
    assert '<script src="/static/softphone.js"></script>' in html
    for control in ("softphone-answer", "softphone-hangup", "softphone-mute",
                    "softphone-auto-answer", "softphone-mic", "softphone-speaker",
                    "softphone-quality", "softphone-audio"):
        assert f'id="{control}"' in html


def test_given_a_real_switch_without_sip_library_when_partial_rendered_then_says_so(app, tmp_path):
    app.static_folder = str(tmp_path / "empty")
    html = partial(with_real_switch(use_softphone_api(app)))

    assert 'data-mode="unavailable"' in html
    assert "SIP library was never" in html and "fetched" in html
    assert "softphone.js" not in html


def test_given_the_softphone_script_when_requested_then_served(client):
    response = client.get("/static/softphone.js")

    assert response.status_code == 200
    assert b"SIP.UserAgent" in response.data


# --- the agent's account ----------------------------------------------------------------

def test_given_agent_on_a_real_switch_when_account_asked_then_own_extension_and_derived_password(
        app, agent_client, tmp_path):
    fetched_library(with_real_switch(app), tmp_path)

    response = agent_client.get("/api/desktop/softphone")

    assert response.status_code == 200, response.get_json()
    account = response.get_json()
    assert account["extension"] == account["username"] == AGENT
    assert account["password"] == sip_password(CONTROL_SECRET, AGENT)
    assert account["wss_url"] == "wss://localhost:7443"
    assert account["uri"] == f"sip:{AGENT}@localhost"
    assert account["ice_servers"] == [] and account["expires"] == softphone.REGISTER_SECONDS
    assert response.headers["Cache-Control"] == "no-store"


def test_given_configured_wss_url_and_domain_when_account_asked_then_they_are_used(
        app, agent_client, tmp_path):
    fetched_library(with_real_switch(app), tmp_path)
    app.config.update(SOFTPHONE_WSS_URL="wss://pbx.example.org:7443",
                      SOFTPHONE_SIP_DOMAIN="10.0.0.5",
                      SOFTPHONE_ICE_SERVERS=[{"urls": "stun:stun.example.org"}])

    account = agent_client.get("/api/desktop/softphone").get_json()

    assert account["wss_url"] == "wss://pbx.example.org:7443"
    assert account["uri"] == f"sip:{AGENT}@10.0.0.5"
    assert account["ice_servers"] == [{"urls": "stun:stun.example.org"}]


def test_given_the_emulator_when_account_asked_then_refused_the_phone_is_simulated(agent_client):
    response = agent_client.get("/api/desktop/softphone")

    assert response.status_code == 409
    assert "emulator" in response.get_json()["error"]


def test_given_user_without_extension_when_account_asked_then_refused(app, client, tmp_path):
    fetched_library(with_real_switch(use_softphone_api(app)), tmp_path)
    _, username, password = create_user(app, role="agent")
    login(client, username, password)

    response = client.get("/api/desktop/softphone")

    assert response.status_code == 409
    assert "no extension" in response.get_json()["error"]


def test_given_no_session_when_account_asked_then_401_and_no_password(app, client, tmp_path):
    fetched_library(with_real_switch(use_softphone_api(app)), tmp_path)

    response = client.get("/api/desktop/softphone")

    assert response.status_code == 401
    assert sip_password(CONTROL_SECRET, AGENT).encode() not in response.data


# --- the page's Content-Security-Policy ------------------------------------------------

def test_given_a_real_switch_when_desktop_served_then_csp_lets_it_reach_the_switch_only(
        app, agent_client, tmp_path):
    fetched_library(with_real_switch(app), tmp_path)

    desktop = agent_client.get("/desktop")
    other = agent_client.get("/account/tokens")

    assert "connect-src 'self' wss://localhost:7443;" in desktop.headers["Content-Security-Policy"]
    assert "wss://" not in other.headers["Content-Security-Policy"]


def test_given_the_emulator_when_desktop_served_then_csp_unchanged(agent_client):
    csp = agent_client.get("/desktop").headers["Content-Security-Policy"]

    assert "connect-src 'self';" in csp and "wss://" not in csp


# --- the pinned SIP.js step -------------------------------------------------------------

def tarball(files):
    """A .tgz of {path: bytes}, like npm's (everything under package/)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def integrity_of(data):
    return "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode()


def test_given_pinned_integrity_when_read_then_an_npm_sha512_value():
    algorithm, _, digest = sip_library.INTEGRITY.partition("-")

    assert algorithm == "sha512" and len(base64.b64decode(digest)) == 64
    assert sip_library.TARBALL_URL.endswith(f"/{sip_library.NAME}-{sip_library.VERSION}.tgz")


def test_given_a_tarball_not_the_pinned_one_when_installed_then_refused_and_nothing_written(tmp_path):
    data = tarball({"package/lib/index.js": b"export {};\n"})

    with pytest.raises(sip_library.LibraryError, match="pinned integrity"):
        sip_library.install(tmp_path, fetch=lambda: data)

    assert not sip_library.folder(tmp_path).exists()


def test_given_the_pinned_tarball_when_installed_then_only_its_modules_and_licence_once(tmp_path):
    data = tarball({"package/lib/index.js": b"export * from './api/index.js';\n",
                    "package/lib/api/index.js": b"export const UserAgent = 1;\n",
                    "package/lib/api/index.d.ts": b"declare const x: 1;\n",
                    "package/lib/../../escape.js": b"bad\n",
                    "package/LICENSE.md": b"MIT\n",
                    "package/package.json": b"{}\n"})
    fetched = []

    def fetch():
        fetched.append(1)
        return data

    assert sip_library.install(tmp_path, fetch=fetch, integrity=integrity_of(data)) is True
    assert sip_library.install(tmp_path, fetch=fetch, integrity=integrity_of(data)) is False

    folder = sip_library.folder(tmp_path)
    names = sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())
    assert names == [sip_library.STAMP, "LICENSE.md", "api/index.js", "index.js"]
    assert fetched == [1], "fetched once"
    assert not (tmp_path.parent / "escape.js").exists()
    assert sip_library.installed(tmp_path, integrity_of(data))
    assert not sip_library.installed(tmp_path), "not the pinned version"


def test_given_the_softphone_api_then_the_openapi_document_describes_it(app, client):
    use_softphone_api(app)
    _, username, _ = create_user(app, role="admin")
    headers = {"Authorization": f"Bearer {create_token(app, username)}"}

    document = client.get("/api/openapi.json", headers=headers).get_json()

    validate(document)
    operation = document["paths"]["/api/desktop/softphone"]["get"]
    assert operation["x-permissions"] == ["desktop.use"]
    assert {"200", "401", "403", "409"} <= set(operation["responses"])


def test_given_the_dev_script_then_up_and_test_fetch_the_pinned_library_first():
    dev = pathlib.Path(__file__).resolve().parents[2] / "dev"
    main = subprocess.run(["bash", "-c", 'source "$1"; declare -f main', "x", str(dev)],
                          capture_output=True, text=True, timeout=10, check=True).stdout
    up = main[main.index("up)"):main.index(";;")]
    test = main[main.index("test)"):]
    test = test[:test.index(";;")]

    for branch in (up, test):
        assert branch.index("ensure_sip_library") < branch.index("exec ")
    assert "python -m web.desktop.sip_library" in dev.read_text()


def test_given_the_softphone_settings_in_the_environment_then_the_app_config_carries_them():
    from fs_cc.config import load_settings
    from web import _config_from_settings

    settings = load_settings(env={"FS_CC_SOFTPHONE_WSS_URL": "wss://pbx.example.org:7443",
                                  "FS_CC_SOFTPHONE_SIP_DOMAIN": "cc.example.org",
                                  "FS_CC_SECRET_KEY": "s" * 40},
                             overrides={"var_dir": None})
    config = _config_from_settings(settings)

    assert (config["SOFTPHONE_WSS_URL"], config["SOFTPHONE_SIP_DOMAIN"]) == (
        "wss://pbx.example.org:7443", "cc.example.org")
