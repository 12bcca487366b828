"""Sound files as FreeSWITCH finds them: the sound_prefix, mod_sndfile's rate folders, streams.

A relative sound is read from the channel's ``sound_prefix`` (vanilla: ``$${sounds_dir}/en/us/
callie``); mod_sndfile tries ``<folder>/<rate>/<name>`` for the usual rates as well as the path
itself. Shared by the emulator (which fails on a missing file as FreeSWITCH does) and the IVR
checks.
"""

import os
import pathlib

REPO_ROOT = pathlib.Path(__file__).resolve().parents[1]
SHIPPED_SOUNDS = REPO_ROOT / "freeswitch_conf" / "sounds"  # what install.sh puts on a switch
PREFIX_SUBDIR = "en/us/callie"  # vanilla vars.xml: sound_prefix=$${sounds_dir}/en/us/callie
RATES = (8000, 16000, 32000, 48000)
NOT_FILES = ("tone_stream://", "silence_stream://", "local_stream://", "say:", "phrase:",
             "http://", "https://", "shout://", "${")


def sound_prefix(sounds_dir):
    """The sound_prefix of a switch whose $${sounds_dir} is ``sounds_dir``."""
    return os.path.join(str(sounds_dir), PREFIX_SUBDIR)


def is_file(sound):
    """Whether ``sound`` names a file (not a tone, a stream, a phrase or a variable)."""
    return not sound.startswith(NOT_FILES)


def candidates(sound, prefix):
    """The paths FreeSWITCH tries for ``sound``, in order (switch_ivr_play_file, mod_sndfile)."""
    path = sound if os.path.isabs(sound) else os.path.join(prefix, sound)
    folder, name = os.path.split(path)
    return [os.path.join(folder, str(rate), name) for rate in RATES] + [path]


def pieces(sound):
    """The sounds of one playback argument: a file_string:// list split on '!', else itself."""
    if sound.startswith("file_string://"):
        return [p for p in sound[len("file_string://"):].split("!") if p]
    return [sound]
