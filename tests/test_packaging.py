"""setup.cfg: every folder of fs_cc and web is a package, so an install raises no warnings."""

import pathlib
import subprocess

from setuptools.config.setupcfg import read_configuration

REPO = pathlib.Path(__file__).resolve().parent.parent


def ignored_folders():
    """The folders git ignores under the repository (what set-up fetches, e.g. the softphone's
    SIP library, web.desktop.sip_library): no part of the package."""
    try:
        out = subprocess.run(["git", "ls-files", "--others", "--ignored", "--exclude-standard",
                              "--directory", "fs_cc", "web"], cwd=REPO, capture_output=True,
                             text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return ()  # not a git checkout (an unpacked sdist): nothing was fetched into it
    return tuple(REPO / line.rstrip("/") for line in out.splitlines() if line.endswith("/"))


def fetched(path, ignored):
    """Whether ``path`` lies in one of the ``ignored`` folders."""
    return any(path == folder or folder in path.parents for folder in ignored)


def importable_folders():
    """Dotted names of every folder under fs_cc/ and web/ that Python could import."""
    names = set()
    ignored = ignored_folders()
    for top in ("fs_cc", "web"):
        for folder in [REPO / top, *(REPO / top).rglob("*")]:
            if folder.is_dir() and "__pycache__" not in folder.parts and not fetched(folder, ignored):
                names.add(".".join(folder.relative_to(REPO).parts))
    return names


def test_given_setup_cfg_then_every_folder_with_files_is_a_package():
    # setuptools warns "Package 'web.templates' is absent from the `packages` configuration"
    # (about 40 lines each) for any importable folder left out, on every install
    options = read_configuration(str(REPO / "setup.cfg"))["options"]

    packages = set(options["packages"])

    assert importable_folders() <= packages
    assert all(name.split(".")[0] in ("fs_cc", "web") for name in packages)
    assert options["package_dir"] == {"": "."}  # a plain .pth for the editable install


def test_given_setup_cfg_then_templates_static_and_migrations_ship():
    options = read_configuration(str(REPO / "setup.cfg"))["options"]

    patterns = options["package_data"]["web"]

    for data in ("templates/*.html", "templates/*/*.html", "static/*", "migrations/*",
                 "migrations/*/*"):
        assert data in patterns


def test_given_setup_cfg_then_every_template_and_static_file_is_matched_by_a_pattern():
    # a vendored script in a subfolder the patterns miss would be absent from an installed web
    import fnmatch

    patterns = read_configuration(str(REPO / "setup.cfg"))["options"]["package_data"]["web"]
    web = REPO / "web"
    ignored = ignored_folders()
    shipped = [path.relative_to(web).as_posix() for folder in ("static", "templates")
               for path in (web / folder).rglob("*") if path.is_file()
               and "__pycache__" not in path.parts and not fetched(path, ignored)]
    missed = [name for name in shipped if not any(fnmatch.fnmatchcase(name, pattern)
                                                  and name.count("/") == pattern.count("/")
                                                  for pattern in patterns)]
    assert shipped and missed == []
