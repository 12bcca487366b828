"""`fs-cc`: the command line of every fs_cc process.

Telephony commands live here; the web side registers its own (`web`, `worker`, `db`, `user`)
through the ``fs_cc.commands`` entry-point group, so that fs_cc never imports the web app.
"""

import argparse
import importlib.metadata
import logging
import sys

from fs_cc.errors import ConfigError, FsCcError

logger = logging.getLogger(__name__)


def _setup_logging(level):
    logging.basicConfig(level=getattr(logging, level.upper(), logging.INFO),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")


def _settings(args, **overrides):
    from fs_cc.config import load_settings

    return load_settings(config_file=args.config, overrides=overrides)


def cmd_engine(args):
    """Run the engine: ESL connection, outbound socket server, IVR, ACD, control interface."""
    from fs_cc.engine import run_engine

    settings = _settings(args, esl=args.esl, outbound_port=args.outbound_port,
                         control_port=args.control_port, ivr_flow=args.ivr_flow)
    return run_engine(settings)


def cmd_emulator(args):
    """Run the built-in FreeSWITCH emulator standalone."""
    from fs_cc.emulator import main as emulator_main

    return emulator_main(args.rest)


def cmd_up(args):
    """Run the whole call center on its embedded defaults."""
    from fs_cc.up import run_up

    settings = _settings(args, web_port=args.port, emulator_traffic_cpm=args.traffic_cpm,
                         emulator_speed=args.speed)
    return run_up(settings, config_file=args.config)


def cmd_ivr_validate(args):
    """Check IVR flow files and report every problem with file and line."""
    from fs_cc.ivr import validate_file

    status = 0
    for path in args.files:
        try:
            warnings = validate_file(path)
        except ConfigError as exc:
            print(f"error: {exc}", file=sys.stderr)
            status = 1
            continue
        for warning in warnings:
            print(f"warning: {warning}", file=sys.stderr)
        print(f"{path}: ok")
    return status


def build_parser():
    """The argument parser with every subcommand, including plugged-in ones."""
    parser = argparse.ArgumentParser(prog="fs-cc", description=__doc__.splitlines()[0])
    parser.add_argument("--config", help="YAML configuration file (default: $FS_CC_CONFIG or"
                                         " ./fs_cc.yaml when present)")
    parser.add_argument("--log-level", default="INFO")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    up = sub.add_parser("up", help=cmd_up.__doc__)
    up.add_argument("--port", type=int, help="web port (default 5000)")
    up.add_argument("--traffic-cpm", type=float, help="simulated callers per minute")
    up.add_argument("--speed", type=float, help="emulator speed factor")
    up.set_defaults(func=cmd_up)

    engine = sub.add_parser("engine", help=cmd_engine.__doc__)
    engine.add_argument("--esl", help="FreeSWITCH event socket: esl://:PASSWORD@HOST:PORT")
    engine.add_argument("--outbound-port", type=int)
    engine.add_argument("--control-port", type=int)
    engine.add_argument("--ivr-flow")
    engine.set_defaults(func=cmd_engine)

    emulator = sub.add_parser("emulator", help=cmd_emulator.__doc__, add_help=False)
    emulator.set_defaults(func=cmd_emulator, rest=[])

    ivr = sub.add_parser("ivr", help="IVR flow tools")
    ivr_sub = ivr.add_subparsers(dest="ivr_command", required=True, metavar="COMMAND")
    validate = ivr_sub.add_parser("validate", help=cmd_ivr_validate.__doc__)
    validate.add_argument("files", nargs="+")
    validate.set_defaults(func=cmd_ivr_validate)

    for entry in importlib.metadata.entry_points(group="fs_cc.commands"):
        try:
            register = entry.load()
        except ImportError as exc:  # a broken plug-in must not take the telephony commands down
            logger.warning("fs-cc: commands from %s unavailable: %s", entry.value, exc)
            continue
        register(sub)
    return parser


_GEVENT_COMMANDS = {"engine", "emulator", "web"}


def _command_of(argv):
    skip = False
    for token in argv:
        if skip:
            skip = False
        elif token in ("--config", "--log-level"):
            skip = True
        elif not token.startswith("-"):
            return token
    return None


def main(argv=None):
    """Entry point of the `fs-cc` console script."""
    argv = sys.argv[1:] if argv is None else list(argv)
    if _command_of(argv) in _GEVENT_COMMANDS:
        from gevent import monkey
        from psycogreen.gevent import patch_psycopg

        monkey.patch_all()
        patch_psycopg()  # PostgreSQL queries yield to other greenlets instead of blocking all
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if args.command == "emulator":
        args.rest = extra  # the emulator parses its own options
    elif extra:
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    _setup_logging(args.log_level)
    try:
        return args.func(args) or 0
    except ConfigError as exc:
        print(f"fs-cc: configuration error: {exc}", file=sys.stderr)
        return 2
    except FsCcError as exc:
        print(f"fs-cc: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
