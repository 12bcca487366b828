"""Spoken prompts for a FreeSWITCH on another machine: ``GET /prompts/<hash>.wav``.

The engine synthesises text prompts into ``<sound_prefix>/tts`` (fs_cc.ivr.speech). A switch on
the same machine reads them from there; one on another machine fetches them over HTTP with
mod_http_cache (``http_cache://http://<engine>:<control port>/prompts/<hash>.wav``, the
``prompt_url`` setting), which keeps a copy and fetches again only when its max-age passes.

No secret is asked: mod_http_cache can send none, and a prompt holds only what the flow says
(a text, or a value spoken to a caller). Only names the cache makes are served (24 hex digits),
from that one folder, so no other file of the host can be read through it.
"""

import os
import re

PREFIX = "/prompts/"
NAME_RE = re.compile(r"^[0-9a-f]{24}\.wav$")
MAX_AGE = 24 * 3600  # a prompt's file never changes: its name is the hash of what it says
CHUNK = 64 * 1024


def prompt_file(tts_dir, path):
    """The file ``path`` (``/prompts/<name>``) names in ``tts_dir``, or None (not ours/absent)."""
    name = path[len(PREFIX):]
    if tts_dir is None or not NAME_RE.match(name):
        return None
    file_path = os.path.join(tts_dir, name)
    return file_path if os.path.isfile(file_path) else None


def serve(file_path, method, start_response):
    """Answer with the WAV at ``file_path`` (HEAD: its headers only)."""
    size = os.path.getsize(file_path)
    start_response("200 OK", [("Content-Type", "audio/wav"), ("Content-Length", str(size)),
                              ("Cache-Control", f"public, max-age={MAX_AGE}"),
                              ("X-Content-Type-Options", "nosniff")])
    if method == "HEAD":
        return [b""]
    return _chunks(file_path)


def _chunks(file_path):
    with open(file_path, "rb") as handle:
        while True:
            chunk = handle.read(CHUNK)
            if not chunk:
                return
            yield chunk
