"""`fs-cc`: the command line of every fs_cc process.

Telephony commands live here; the web side registers its own (`web`, `worker`, `db`, `user`)
through the ``fs_cc.commands`` entry-point group, so that fs_cc never imports the web app.
"""

import argparse
import importlib.metadata
import logging
import os
import sys

from fs_cc.config import PRIVATE_UMASK
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
    """Check IVR flow files and report every problem as file:line:column (exit 1 on an error)."""
    from fs_cc.ivr.validate import validate_file
    from fs_cc.sounds import REPO_ROOT, SHIPPED_SOUNDS, sound_prefix

    files = args.files or sorted(str(p) for p in (REPO_ROOT / "ivr_flows").glob("*.yaml"))
    sounds_dir = args.sounds_dir or os.environ.get("FS_CC_SOUNDS_DIR") or SHIPPED_SOUNDS
    queues = _validate_queues(args)
    flows = {os.path.splitext(os.path.basename(f))[0] for f in files}
    for path in files:  # the flows beside each file can be transfer or overflow targets
        folder = os.path.dirname(os.path.abspath(path))
        flows |= {os.path.splitext(e)[0] for e in os.listdir(folder) if e.endswith(".yaml")}
    status = 0
    for path in files:
        problems = validate_file(path, queues, sound_prefix(sounds_dir), flows)
        for problem in problems:
            print(problem, file=sys.stderr)
        if any(p.severity == "error" for p in problems):
            status = 1
        else:
            print(f"{path}: ok")
    return status


def cmd_ivr_versions(args):
    """List the stored versions of an IVR flow (number, author, time, restored from, comment)."""
    from fs_cc.ivr.versions import stored_versions

    rows = stored_versions(_settings(args).database_url, args.name)
    if not rows:
        print(f"flow {args.name}: no stored version", file=sys.stderr)
        return 1
    for row in rows:
        restored = f" (restored from {row.restored_from})" if row.restored_from else ""
        print(f"{row.version:>4}  {row.created_at:%Y-%m-%d %H:%M:%S}  {row.author:<16} "
              f"{row.sha256[:12]}{restored}  {row.comment}")
    return 0


def cmd_ivr_diff(args):
    """Show what changed in an IVR flow from one stored version to another (unified diff)."""
    from fs_cc.ivr.versions import stored_diff

    sys.stdout.write(stored_diff(_settings(args).database_url, args.name, args.first,
                                 args.second))
    return 0


def cmd_simulate_dialer(args):
    """Simulate an outbound shift under each pacer and print their figures side by side."""
    from fs_cc.dialer.report import compare, table
    from fs_cc.dialer.simulate import Scenario
    from fs_cc.dialer.vicidial import Campaign

    scenario = Scenario(agents=args.agents, answer_rate=args.answer_rate, talk=args.talk,
                        wrap=args.wrap, ring=args.ring, hours=args.hours, grace=args.grace,
                        seed=args.seed)
    campaign = Campaign(adaptive_maximum_level=args.adaptive_maximum)
    results = compare(scenario, args.abandon_limit, campaign)
    print("\n".join(table(scenario, results, args.abandon_limit, campaign)))
    return 0


def _validate_queues(args):
    # the queues a flow may name: --queues, else the catalog in --database, else the settings'
    # (settings and catalog give each queue's settings: a queue with opening hours and no closed
    # path is warned about)
    if args.queues is not None:
        return {name.strip() for name in args.queues.split(",") if name.strip()}
    from fs_cc.acd.config import parse_queues, queues_from_catalog

    if args.database:
        from fs_cc.catalog import load_catalog

        return {queue.name: queue for queue in queues_from_catalog(load_catalog(args.database))}
    return parse_queues(_settings(args).queues)


def _add_common_options(parser, default_config=None, default_log_level="INFO"):
    parser.add_argument("--config", default=default_config,
                        help="YAML configuration file (default: $FS_CC_CONFIG or ./fs_cc.yaml"
                             " when present)")
    parser.add_argument("--log-level", default=default_log_level)


class _CommandParser(argparse.ArgumentParser):
    """A subcommand's parser: --config and --log-level may also follow the subcommand.

    Their defaults are suppressed here, so a value given before the subcommand survives.
    ``common_options=False`` leaves them to a command that parses its own (the emulator).
    """

    def __init__(self, *args, common_options=True, **kwargs):
        super().__init__(*args, **kwargs)
        if common_options:
            _add_common_options(self, argparse.SUPPRESS, argparse.SUPPRESS)


# (environment variable, Settings field, what listens there) of every port `up` binds
PORT_SETTINGS = (
    ("FS_CC_WEB_PORT", "web_port", "the web app (or --port)"),
    ("FS_CC_CONTROL_PORT", "control_port", "the engine's control interface"),
    ("FS_CC_OUTBOUND_PORT", "outbound_port", "the engine's outbound ESL server"),
    ("FS_CC_EMULATOR_PORT", "emulator_port", "the emulator's event socket (FreeSWITCH's too)"),
)


def port_settings_epilog():
    """The `up --help` epilog: each port setting with its default."""
    import dataclasses

    from fs_cc.config import Settings

    defaults = {field.name: field.default for field in dataclasses.fields(Settings)}
    lines = ["port settings: environment variables (in a --config file, the same names in",
             "lowercase without FS_CC_, e.g. web_port), with their defaults:"]
    for env, field, what in PORT_SETTINGS:
        lines.append(f"  {env:<20} {defaults[field]:<5} {what}")
    lines.append("set one when another program holds its port, e.g. a real FreeSWITCH on 8021;")
    lines.append("their hosts: FS_CC_CONTROL_HOST, FS_CC_OUTBOUND_HOST (default 127.0.0.1)")
    return "\n".join(lines)


def build_parser():
    """The argument parser with every subcommand, including plugged-in ones."""
    parser = argparse.ArgumentParser(prog="fs-cc", description=__doc__.splitlines()[0])
    _add_common_options(parser)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND",
                                parser_class=_CommandParser)

    up = sub.add_parser("up", help=cmd_up.__doc__, epilog=port_settings_epilog(),
                        formatter_class=argparse.RawDescriptionHelpFormatter)
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

    # the emulator parses its own options, --config (its YAML) and --log-level among them
    emulator = sub.add_parser("emulator", help=cmd_emulator.__doc__, add_help=False,
                              common_options=False)
    emulator.set_defaults(func=cmd_emulator, rest=[])

    ivr = sub.add_parser("ivr", help="IVR flow tools")
    ivr_sub = ivr.add_subparsers(dest="ivr_command", required=True, metavar="COMMAND")
    ivr.commands = ivr_sub  # plug-ins add IVR commands here (the web side: restore)
    validate = ivr_sub.add_parser("validate", help=cmd_ivr_validate.__doc__)
    validate.add_argument("files", nargs="*",
                          help="flow files (default: every ivr_flows/*.yaml)")
    validate.add_argument("--queues", default=None,
                          help="the queue names that exist, comma-separated (default: the "
                               "catalog of --database, else the settings' queues)")
    validate.add_argument("--database", default=None,
                          help="database URL whose catalog lists the queues")
    validate.add_argument("--sounds-dir", default=None,
                          help="the switch's $${sounds_dir} as seen from here (default: "
                               "$FS_CC_SOUNDS_DIR, else the sounds fs_cc ships)")
    validate.set_defaults(func=cmd_ivr_validate)
    versions = ivr_sub.add_parser("versions", help=cmd_ivr_versions.__doc__)
    versions.add_argument("name", help="the flow's name")
    versions.set_defaults(func=cmd_ivr_versions)
    diff = ivr_sub.add_parser("diff", help=cmd_ivr_diff.__doc__)
    diff.add_argument("name", help="the flow's name")
    diff.add_argument("first", type=int, help="the version to compare from")
    diff.add_argument("second", type=int, help="the version to compare to")
    diff.set_defaults(func=cmd_ivr_diff)

    simulate = sub.add_parser("simulate", help="simulations that run the real code")
    simulate_sub = simulate.add_subparsers(dest="simulate_command", required=True, metavar="COMMAND")
    dialer = simulate_sub.add_parser("dialer", help=cmd_simulate_dialer.__doc__)
    for flag, kind, default, what in (
            ("--agents", int, 20, "agents logged in for the shift"),
            ("--answer-rate", float, 0.3, "share of calls a person answers"),
            ("--talk", float, 120.0, "mean talk seconds"), ("--wrap", float, 15.0,
                                                          "mean wrap-up seconds"),
            ("--ring", float, 20.0, "mean ring seconds, answered or not"),
            ("--hours", float, 8.0, "shift length"),
            ("--abandon-limit", float, 0.03, "abandoned share of live answers allowed"),
            ("--grace", float, 2.0, "seconds an answered call waits for an agent"),
            ("--adaptive-maximum", float, 3.0, "ViciDial's adaptive_maximum_level"),
            ("--seed", int, 1, "random seed")):
        dialer.add_argument(flag, type=kind, default=default, help=f"{what} (default {default})")
    dialer.set_defaults(func=cmd_simulate_dialer)

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
    # what any fs-cc process writes (database, logs, secrets, recordings, outbox) is private to
    # the service's user: files 0600, folders 0700, whoever started it with whatever umask (the
    # children of `up` inherit it); a caller in the same process gets its own back at the end
    umask = os.umask(PRIVATE_UMASK)
    try:
        return _run(argv)
    finally:
        os.umask(umask)


def _run(argv):
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
    if args.config:
        # commands that load settings themselves (the plugged-in web, worker, db, user) and the
        # processes they start read the file from here
        os.environ["FS_CC_CONFIG"] = str(args.config)
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
