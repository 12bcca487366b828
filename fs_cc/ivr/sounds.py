"""The sound files a flow plays, checked before calls run it.

A missing one does not fail loudly on the switch: ``play_and_get_digits`` skips reading the keys
and every menu falls through to its default.
"""

import os

from fs_cc.errors import ConfigError
from fs_cc.sounds import candidates, is_file, pieces


def flow_sounds(flow):
    """(sound, node id, line) for every file a flow plays, in file order, each node's once."""
    found = []
    for node in flow.nodes.values():
        for sound in dict.fromkeys(node.sounds()):
            for piece in pieces(sound):
                if is_file(piece):
                    found.append((piece, node.id, node.line))
    return found


def missing_sounds(flow, prefix, exists=os.path.exists):
    """The flow's (sound, node id, line) that no candidate path holds; ``exists`` checks a path."""
    return [(sound, node, line) for sound, node, line in flow_sounds(flow)
            if not any(exists(path) for path in candidates(sound, prefix))]


def check_sounds(flow, prefix, exists=os.path.exists):
    """Raise ConfigError (file and line) naming the first sound of ``flow`` not under ``prefix``."""
    missing = missing_sounds(flow, prefix, exists)
    if missing:
        sound, node, line = missing[0]
        more = f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""
        raise ConfigError(f"node '{node}' plays '{sound}', which is not in {prefix}{more}: "
                          f"without it FreeSWITCH skips the menu's keys; add the file or "
                          f"generate it (freeswitch_conf/sounds/generate.py)", flow.source, line)
