"""Security headers on every response, templates that need no inline code, and the refusal to
start on a weak secret key."""

import os
import pathlib
import re

import pytest

from fs_cc.errors import ConfigError
from tests.web.support import create_user, login, make_settings
from web import create_app
from web.security import CONTENT_SECURITY_POLICY, secret_key_problem

TEMPLATES = pathlib.Path(__file__).resolve().parents[2] / "web" / "templates"
EXPECTED = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'; "
        "object-src 'none'"),
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "X-Content-Type-Options": "nosniff",
}


def security_headers(response):
    """The four security headers of ``response`` (None for a missing one)."""
    return {name: response.headers.get(name) for name in EXPECTED}


@pytest.mark.parametrize("path", ["/auth/login", "/calls", "/", "/api/me", "/no-such-page",
                                  "/api/no-such-route", "/static/style.css",
                                  "/static/agents.js", "/agents"])
def test_given_any_response_then_it_carries_the_security_headers(app, client, path):
    _, username, password = create_user(app, role="admin")
    login(client, username, password)

    response = client.get(path)

    assert security_headers(response) == EXPECTED


def test_given_an_anonymous_request_and_a_refused_post_then_headers_too(client):
    assert security_headers(client.get("/calls")) == EXPECTED  # a redirect to the login
    assert security_headers(client.post("/auth/login", data={})) == EXPECTED  # no CSRF token


def test_given_the_policy_then_it_allows_no_inline_script_or_style():
    assert "'unsafe-inline'" not in CONTENT_SECURITY_POLICY
    assert "'unsafe-eval'" not in CONTENT_SECURITY_POLICY


INLINE = [
    (re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I), "an inline <script> block"),
    (re.compile(r"<[a-z][^>]*\sstyle=", re.I), "a style= attribute"),
    (re.compile(r"<style\b", re.I), "a <style> block"),
    (re.compile(r"<[a-z][^>]*\son[a-z]+=", re.I), "an inline event handler (on...=)"),
    (re.compile(r"javascript:", re.I), "a javascript: URL"),
]


def test_given_every_template_then_none_holds_code_or_style_the_policy_blocks():
    problems = []
    for path in sorted(TEMPLATES.rglob("*.html")):
        text = path.read_text(encoding="utf-8")
        for pattern, what in INLINE:
            for match in pattern.finditer(text):
                line = text.count("\n", 0, match.start()) + 1
                problems.append(f"{path.relative_to(TEMPLATES)}:{line}: {what}")
    assert problems == []


WEAK = ["", "x", "test-secret", "changeme", "a" * 64, "ab" * 32,
        "0123456789" * 2, "CHANGEME"]


@pytest.mark.parametrize("secret", WEAK)
def test_given_a_weak_secret_key_when_building_the_app_then_refused_naming_the_setting(
        tmp_path, secret):
    settings = make_settings(tmp_path, f"sqlite:///{tmp_path / 'x.sqlite'}")
    settings.secret_key = secret

    with pytest.raises(ConfigError) as refused:
        create_app(settings=settings)

    assert "secret_key ($FS_CC_SECRET_KEY)" in str(refused.value)


def test_given_a_weak_secret_in_the_environment_when_starting_web_then_one_line_and_exit_2(
        tmp_path, monkeypatch, capsys):
    from fs_cc import cli

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("FS_CC_CONFIG", raising=False)
    monkeypatch.setenv("FS_CC_VAR_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("FS_CC_SECRET_KEY", "s")

    status = cli.main(["db", "upgrade"])

    err = capsys.readouterr().err
    assert status == 2
    assert err.startswith("fs-cc: configuration error: secret_key ($FS_CC_SECRET_KEY) is 1 "
                          "characters long")
    assert "Traceback" not in err


def test_given_no_secret_key_configured_then_a_strong_one_is_generated_kept_and_private(
        tmp_path):
    from fs_cc.config import load_settings

    env = {"FS_CC_VAR_DIR": str(tmp_path / "var")}
    first = load_settings(env=env).secret_key
    again = load_settings(env=env).secret_key

    assert first == again and secret_key_problem(first) is None
    assert os.stat(tmp_path / "var" / "secret_key").st_mode & 0o777 == 0o600


def test_given_a_long_random_secret_then_accepted():
    import secrets

    assert secret_key_problem(secrets.token_hex(16)) is None
    assert secret_key_problem(secrets.token_urlsafe(32)) is None
