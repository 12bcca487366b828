"""setup.cfg: every folder of fs_cc and web is a package, so an install raises no warnings."""

import pathlib

from setuptools.config.setupcfg import read_configuration

REPO = pathlib.Path(__file__).resolve().parent.parent


def importable_folders():
    """Dotted names of every folder under fs_cc/ and web/ that Python could import."""
    names = set()
    for top in ("fs_cc", "web"):
        for folder in [REPO / top, *(REPO / top).rglob("*")]:
            if folder.is_dir() and "__pycache__" not in folder.parts:
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
    shipped = [path.relative_to(web).as_posix() for folder in ("static", "templates")
               for path in (web / folder).rglob("*") if path.is_file()
               and "__pycache__" not in path.parts]
    missed = [name for name in shipped if not any(fnmatch.fnmatchcase(name, pattern)
                                                  and name.count("/") == pattern.count("/")
                                                  for pattern in patterns)]
    assert shipped and missed == []
