"""Under CI or FS_CC_REQUIRE_SERVICES, a test that skips for lack of PostgreSQL or Redis fails."""

import os
import pathlib
import subprocess
import sys

import pytest

from tests.services import missing_service, services_required

REPO = pathlib.Path(__file__).resolve().parent.parent

INNER = '''
import pytest

def test_postgres_skips_in_the_test():
    pytest.skip("PostgreSQL at 127.0.0.1:5432 is not available")

@pytest.fixture
def database():
    pytest.skip("no postgresql database available")

def test_postgres_skips_in_a_fixture(database):
    pass

def test_real_freeswitch_tier_skips():
    pytest.skip("FS_CC_TEST_ESL is not set: no real FreeSWITCH to drive")

def test_plain():
    pass
'''


def run_inner(tmp_path, **env):
    """Run INNER under pytest with the suite's service hooks; return (status, output)."""
    (tmp_path / "test_inner.py").write_text(INNER)
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    clean = {key: value for key, value in os.environ.items()
             if key not in ("CI", "FS_CC_REQUIRE_SERVICES", "PYTEST_ADDOPTS")}
    clean.update(env, PYTHONPATH=str(REPO))
    result = subprocess.run([sys.executable, "-m", "pytest", "-p", "tests.services",
                             "-p", "no:cacheprovider", "-c", str(tmp_path / "pytest.ini"),
                             "--rootdir", str(tmp_path), "-rA", str(tmp_path / "test_inner.py")],
                            cwd=tmp_path, env=clean, capture_output=True, text=True, timeout=60)
    return result.returncode, result.stdout + result.stderr


def outcome_of(output, name):
    """PASSED, FAILED, ERROR or SKIPPED: the -rA summary line of test ``name``."""
    for line in output.splitlines():
        words = line.split()
        if len(words) >= 2 and words[1].endswith(f"::{name}"):
            return words[0]
    return None


def test_given_no_ci_when_postgres_is_missing_then_its_tests_skip(tmp_path):
    status, output = run_inner(tmp_path)

    assert status == 0, output
    assert "3 skipped" in output and "failed" not in output, output
    assert "set FS_CC_REQUIRE_SERVICES=1 to fail" in output


@pytest.mark.parametrize("variable", ["FS_CC_REQUIRE_SERVICES", "CI"])
def test_given_services_required_when_postgres_is_missing_then_its_tests_fail(tmp_path,
                                                                              variable):
    status, output = run_inner(tmp_path, **{variable: "1" if variable != "CI" else "true"})

    assert status == 1, output
    assert outcome_of(output, "test_postgres_skips_in_the_test") == "FAILED", output
    assert outcome_of(output, "test_postgres_skips_in_a_fixture") == "ERROR", output
    assert outcome_of(output, "test_plain") == "PASSED", output
    assert "1 skipped" in output, output  # the real-FreeSWITCH tier stays opt-in
    assert "postgresql://postgres@127.0.0.1:5432/test is required here" in output
    assert "./dev start-services" in output


def test_given_reasons_then_only_postgres_and_redis_outages_count():
    assert missing_service("PostgreSQL at 127.0.0.1:5432 is not available")[0] == "PostgreSQL"
    assert missing_service("no postgresql database available")[0] == "PostgreSQL"
    assert missing_service("Redis at 127.0.0.1:6379 is not available")[0] == "Redis"
    assert missing_service("FS_CC_TEST_ESL is not set: no real FreeSWITCH to drive") is None
    assert missing_service("emulator_only: needs simulated behaviour") is None


def test_given_the_environment_then_services_are_required_under_ci_or_the_variable():
    assert services_required({"CI": "true"})
    assert services_required({"FS_CC_REQUIRE_SERVICES": "1"})
    assert not services_required({})
    assert not services_required({"CI": "", "FS_CC_REQUIRE_SERVICES": "0"})
