"""What every request and response of the web app gets: CSRF checks, security headers, cookies.

Also the check that refuses to start on a weak secret key (it signs the session cookies: a
guessable one lets anyone forge an admin's session).
"""

import collections
import math

from flask import has_request_context, request
from flask.sessions import SecureCookieSessionInterface
from flask_wtf.csrf import CSRFError

from fs_cc.errors import ConfigError
from web.errors import WebError
from web.extensions import csrf

# Every script and style comes from our own static files: no inline code, no other origin.
CONTENT_SECURITY_POLICY = "; ".join((
    "default-src 'self'", "script-src 'self'", "style-src 'self'", "img-src 'self' data:",
    "connect-src 'self'", "frame-ancestors 'none'", "base-uri 'self'", "form-action 'self'",
    "object-src 'none'"))
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "X-Content-Type-Options": "nosniff",
}
UNSAFE_METHODS = frozenset(("POST", "PUT", "PATCH", "DELETE"))

MIN_SECRET_LENGTH = 32
MIN_SECRET_BITS = 80
# what tutorials, templates and our own old tests put there
PLACEHOLDER_SECRETS = frozenset((
    "secret", "secret-key", "secret_key", "secretkey", "changeme", "change-me", "change_me",
    "dev", "development", "test", "test-secret", "testing", "default", "password",
    "your-secret-key", "your_secret_key", "please-change-me", "supersecret", "s3cr3t",
    "replace-me", "insecure", "not-secret", "flask-secret", "fs_cc", "fs-cc"))


class CsrfRefused(WebError):
    """An unsafe request came without a valid CSRF token (form field or X-CSRFToken header)."""

    status = 400


def init_security(app):
    """Bind CSRF protection, the security headers and the cookie flags to ``app``."""
    # checked by our own hook below, which lets requests with a Bearer token through
    app.config["WTF_CSRF_CHECK_DEFAULT"] = False
    csrf.init_app(app)
    app.before_request(_check_csrf)
    app.after_request(_add_security_headers)
    app.session_interface = SessionCookies()


class SessionCookies(SecureCookieSessionInterface):
    """Flask's signed cookie, marked Secure when the setting says so or the request is HTTPS."""

    def get_cookie_secure(self, app):
        """Secure when SESSION_COOKIE_SECURE is set, or when this request came over HTTPS."""
        if app.config["SESSION_COOKIE_SECURE"]:
            return True
        return has_request_context() and request.is_secure


def _check_csrf():
    if request.method not in UNSAFE_METHODS:
        return
    if request.headers.get("Authorization", "").startswith("Bearer "):
        # a browser never adds this header to a cross-site request by itself
        return
    try:
        csrf.protect()
    except CSRFError as exc:
        raise CsrfRefused(f"csrf_token: {exc.description} Reload the page and try again.",
                          field="csrf_token") from exc


def _add_security_headers(response):
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    return response


def secret_key_problem(value):
    """Why ``value`` is too weak to sign session cookies, or None when it is strong enough."""
    if not value:
        return "is empty"
    if value.strip().lower() in PLACEHOLDER_SECRETS:
        return "is a well-known placeholder"
    if len(value) < MIN_SECRET_LENGTH:
        return f"is {len(value)} characters long; it needs at least {MIN_SECRET_LENGTH}"
    if _estimated_bits(value) < MIN_SECRET_BITS:
        return (f"holds too little randomness (about {_estimated_bits(value):.0f} bits; "
                f"at least {MIN_SECRET_BITS} needed)")
    return None


def _estimated_bits(value):
    # Shannon entropy of the characters as they occur, times the length: a repeated or
    # few-letter key scores low; 32 random hex digits score about 112 (rarely under 90)
    counts = collections.Counter(value)
    per_char = -sum(n / len(value) * math.log2(n / len(value)) for n in counts.values())
    return per_char * len(value)


def check_secret_key(value):
    """Raise ConfigError naming the setting when ``value`` is a weak secret key."""
    problem = secret_key_problem(value)
    if problem is not None:
        raise ConfigError(
            f"secret_key ($FS_CC_SECRET_KEY) {problem}: set a long random value, e.g. "
            "`python -c 'import secrets; print(secrets.token_hex(32))'`, or unset it so that "
            "fs-cc generates one into var/secret_key")
