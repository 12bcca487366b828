"""The browser softphone's SIP library: SIP.js, pinned, fetched from the npm registry.

The release tarball is checked against the registry's ``dist.integrity`` pinned here (SHA-512)
before anything is extracted; only its ES modules (``package/lib/**/*.js``, no dependencies of
their own) and its licence land in ``web/static/vendor/sip.js-<version>/``, which git ignores.
``./dev up`` and ``./dev test`` run ``python -m web.desktop.sip_library``; it does nothing when
the pinned version is already in place. To upgrade, change VERSION and INTEGRITY together
(``https://registry.npmjs.org/sip.js/<version>``, field ``dist.integrity``).
"""

import base64
import hashlib
import io
import pathlib
import shutil
import sys
import tarfile
import tempfile
import urllib.request

NAME = "sip.js"
VERSION = "0.21.2"
INTEGRITY = ("sha512-tSqTcIgrOd2IhP/rd70JablvAp+fSfLSxO4hGNY6LkWRY1SKygTO7OtJEV/BQb8oIxtMRx0L"
             "E7nUF2MaqGbFzA==")
TARBALL_URL = f"https://registry.npmjs.org/{NAME}/-/{NAME}-{VERSION}.tgz"
STATIC_DIR = pathlib.Path(__file__).resolve().parents[1] / "static"
FOLDER = f"vendor/{NAME}-{VERSION}"  # under the static folder
ENTRY = f"{FOLDER}/index.js"  # the module softphone.js imports
STAMP = ".integrity"  # holds INTEGRITY once the folder is complete
LICENSE = "LICENSE.md"
TIMEOUT = 60


class LibraryError(Exception):
    """The tarball could not be fetched, or is not the pinned one."""


def folder(static_dir=STATIC_DIR):
    """Where the pinned version is extracted."""
    return pathlib.Path(static_dir) / FOLDER


def installed(static_dir=STATIC_DIR, integrity=INTEGRITY):
    """True when the pinned version is extracted in full under static_dir."""
    stamp = folder(static_dir) / STAMP
    return stamp.is_file() and stamp.read_text().strip() == integrity


def check_integrity(data, integrity=INTEGRITY):
    """LibraryError unless data's SHA-512 is the npm integrity value ``sha512-<base64>``."""
    algorithm, _, expected = integrity.partition("-")
    if algorithm != "sha512" or not expected:
        raise LibraryError(f"unsupported integrity value {integrity!r}")
    actual = base64.b64encode(hashlib.sha512(data).digest()).decode("ascii")
    if actual != expected:
        raise LibraryError(f"{NAME} {VERSION} tarball does not match its pinned integrity "
                           f"(got sha512-{actual})")


def download(url=TARBALL_URL, timeout=TIMEOUT):
    """The tarball's bytes; LibraryError when the registry cannot be reached."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.read()
    except OSError as error:
        raise LibraryError(f"cannot download {url}: {error}") from error


def extract(data, target):
    """Write the tarball's ``package/lib/**/*.js`` and licence under target (a new folder)."""
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as archive:
        for member in archive.getmembers():
            name = member.name
            if not member.isfile() or not name.startswith("package/"):
                continue
            rel = name[len("package/"):]
            wanted = (rel == LICENSE or (rel.startswith("lib/") and rel.endswith(".js")))
            parts = pathlib.PurePosixPath(rel).parts
            if not wanted or ".." in parts:
                continue
            out = target.joinpath(*parts[1:]) if rel.startswith("lib/") else target / LICENSE
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_bytes(archive.extractfile(member).read())
    if not (target / "index.js").is_file():
        raise LibraryError(f"{NAME} {VERSION} tarball has no lib/index.js")


def install(static_dir=STATIC_DIR, fetch=download, integrity=INTEGRITY):
    """Put the pinned version in place unless it is; True when it was fetched now."""
    if installed(static_dir, integrity):
        return False
    data = fetch()
    check_integrity(data, integrity)
    final = folder(static_dir)
    final.parent.mkdir(parents=True, exist_ok=True)
    staging = pathlib.Path(tempfile.mkdtemp(prefix=f".{NAME}-", dir=final.parent))
    try:
        extract(data, staging)
        (staging / STAMP).write_text(integrity + "\n")
        for path in [staging, *staging.rglob("*")]:
            path.chmod(0o755 if path.is_dir() else 0o644)  # served as static files
        if final.exists():
            shutil.rmtree(final)
        staging.rename(final)
    finally:
        if staging.exists():
            shutil.rmtree(staging)
    return True


def main(argv=None):
    """Fetch the pinned SIP.js into the static folder; exit status 1 when it cannot."""
    if installed():
        return 0
    print(f"dev: fetching {NAME} {VERSION} (the browser softphone's SIP library) from the npm "
          "registry…", file=sys.stderr)
    try:
        install()
    except LibraryError as error:
        print(f"dev: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
