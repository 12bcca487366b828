"""README.rst: what a new user needs is written down, and matches the code."""

import pathlib
import re
import subprocess

from fs_cc.config import _ENV, _FIELDS

REPO = pathlib.Path(__file__).resolve().parent.parent
README = (REPO / "README.rst").read_text()


def environment_table():
    """The variable names of the README's environment table."""
    start = README.index("The environment\nvariables:")
    table = README[start:README.index("Production uses", start)]
    return set(re.findall(r"^``([A-Z_]+)``", table, flags=re.MULTILINE))


def test_given_the_readme_then_every_environment_setting_is_in_its_table():
    assert set(_ENV) | {"FS_CC_CONFIG"} <= environment_table()


def test_given_the_readme_then_yaml_names_it_gives_are_settings():
    assert {"web_port", "esl"} <= set(_FIELDS)


def test_given_the_readme_then_it_says_who_needs_root_and_how_to_stop_services():
    assert "Root or ``sudo`` is needed only to install Debian packages" in README
    assert "./dev stop-services" in README


def test_given_dev_without_a_command_then_usage_lists_every_command():
    result = subprocess.run([str(REPO / "dev")], capture_output=True, text=True, timeout=30)

    assert result.returncode == 2
    for command in ("./dev up", "./dev test", "./dev start-services", "./dev stop-services"):
        assert command in result.stdout
