"""PostgreSQL and Redis for the suite: with CI or FS_CC_REQUIRE_SERVICES set, a missing one fails.

The tests that need PostgreSQL skip when it does not answer ("... is not available"), which is
handy on a laptop and wrong in CI, where a skipped database test would pass silently. The hook
below turns those skips into failures that name the server and how to start it. Redis tests
already fail (a connection error); the hook adds the same hint to them. The FS_CC_TEST_ESL tier
(a real FreeSWITCH, opt-in) keeps its skips.
"""

import os

import pytest

REQUIRE_ENV = "FS_CC_REQUIRE_SERVICES"
POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"
REDIS_URL = "redis://127.0.0.1:6379"
START_HINT = ("start it with ./dev start-services (./dev test does it too; ./dev stop-services"
              " stops it), or see tests/README.rst")


def services_required(env=None):
    """Whether a test must fail, not skip, when PostgreSQL or Redis is unreachable."""
    env = os.environ if env is None else env
    return any(env.get(name, "").strip() not in ("", "0", "false", "no")
               for name in ("CI", REQUIRE_ENV))


def missing_service(reason):
    """(name, url) of the service a skip reason says is unavailable, or None."""
    text = reason.lower()
    if "available" not in text:
        return None
    if "postgres" in text:
        return "PostgreSQL", POSTGRES_URL
    if "redis" in text:
        return "Redis", REDIS_URL
    return None


def _is_redis_connection_error(excinfo):
    try:
        import redis
    except ImportError:
        return False
    return excinfo.errisinstance(redis.exceptions.ConnectionError)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Fail a skip for lack of PostgreSQL or Redis when services are required; hint on Redis."""
    outcome = yield
    report = outcome.get_result()
    excinfo = call.excinfo
    if excinfo is None:
        return
    if report.skipped and excinfo.errisinstance(pytest.skip.Exception) and services_required():
        service = missing_service(str(excinfo.value.msg))
        if service is not None:
            name, url = service
            report.outcome = "failed"
            report.longrepr = (f"{excinfo.value.msg}\n{name} at {url} is required here"
                               f" (CI or {REQUIRE_ENV} is set), so this test fails instead of"
                               f" skipping: {START_HINT}")
    elif report.failed and _is_redis_connection_error(excinfo):
        report.sections.append(("Redis", f"Redis at {REDIS_URL} did not answer: {START_HINT}"))


def pytest_report_header(config):
    """Say whether a missing PostgreSQL or Redis fails the run or skips its tests."""
    if services_required():
        return f"services: PostgreSQL and Redis required (CI or {REQUIRE_ENV} is set)"
    return f"services: tests needing PostgreSQL skip without it (set {REQUIRE_ENV}=1 to fail)"
