"""Speak the prompts of prompts.yaml into WAV files (espeak-ng, then sox to 8 kHz mono 16-bit).

    .venv/bin/python freeswitch_conf/sounds/generate.py [--out DIR]

Writes DIR/<sound_prefix tree> (default: this folder): en/us/callie/<prompt> for each prompt and
music/8000/<file> for the hold music. Needs Debian's espeak-ng and sox; the repository ships the
result, so neither is needed to run fs_cc.
"""

import argparse
import pathlib
import subprocess
import sys
import tempfile

import yaml

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))  # run as a script from a checkout
from fs_cc.ivr.speech import espeak_wav  # noqa: E402  (after the path is set)

PREFIX = pathlib.Path("en/us/callie")  # vanilla vars.xml: sound_prefix=$${sounds_dir}/en/us/callie
RATE = "8000"
NOTE_SECONDS = 3.0


def speak(text, voice, target):
    """One prompt: the IVR's speech cache's own espeak-ng + sox recipe (8 kHz mono 16-bit PCM)."""
    espeak_wav(text, voice, target, rate=150)


def chords(sequence, target):
    """Hold music: each chord a few seconds of soft sine tones, fading in and out."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        parts = []
        for index, chord in enumerate(sequence):
            part = pathlib.Path(tmp) / f"{index}.wav"
            tones = []
            for note in chord.split(":"):
                tones += ["sine", note]
            subprocess.run(["sox", "-n", "-r", RATE, "-c", "1", "-b", "16", str(part), "synth",
                            str(NOTE_SECONDS), *tones, "vol", "0.25", "fade", "q", "0.4",
                            str(NOTE_SECONDS), "0.6"], check=True)
            parts.append(str(part))
        subprocess.run(["sox", *parts, str(target)], check=True)


def main(argv=None):
    """Generate every sound prompts.yaml names."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=pathlib.Path, default=HERE)
    args = parser.parse_args(argv)
    catalogue = yaml.safe_load((HERE / "prompts.yaml").read_text(encoding="utf-8"))
    for name, text in catalogue["prompts"].items():
        speak(text, catalogue.get("voice", "en-us"), args.out / PREFIX / name)
    for name, sequence in catalogue.get("music", {}).items():
        chords(sequence, args.out / name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
