"""`fs-cc emulator`: run the emulator until SIGINT/SIGTERM."""

import argparse
import logging
import signal

import gevent
import gevent.event

from fs_cc.emulator.config import EmulatorConfig, load_config
from fs_cc.emulator.endpoints import Phone
from fs_cc.emulator.traffic import TrafficProfile

logger = logging.getLogger(__name__)


def build_parser():
    """The emulator's command-line options."""
    parser = argparse.ArgumentParser(prog="fs-cc emulator", description="FreeSWITCH ESL emulator")
    parser.add_argument("--host", default=None)
    parser.add_argument("--port", type=int, default=None)
    parser.add_argument("--password", default=None)
    parser.add_argument("--socket", dest="socket_target", default=None, help="HOST:PORT of the engine")
    parser.add_argument("--speed", type=float, default=None)
    parser.add_argument("--traffic-cpm", type=float, default=None)
    parser.add_argument("--first-call-seconds", type=float, default=None,
                        help="simulated seconds before the first simulated call (default: random)")
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--agents", default=None, help="extension range, e.g. 1000-1009")
    parser.add_argument("--config", default=None, help="YAML file")
    parser.add_argument("--log-level", default="INFO")
    return parser


def config_from_args(args):
    """EmulatorConfig from parsed arguments (file first, flags override)."""
    overrides = {"host": args.host, "port": args.port, "password": args.password,
                 "socket_target": args.socket_target, "speed": args.speed, "seed": args.seed}
    if args.config:
        config = load_config(args.config, **overrides)
    else:
        config = EmulatorConfig(**{k: v for k, v in overrides.items() if v is not None})
        if args.port is None:
            config.port = 8021
    if args.agents:
        low, _, high = args.agents.partition("-")
        config.phones = [Phone(str(ext)) for ext in range(int(low), int(high or low) + 1)]
    if args.traffic_cpm:
        config.traffic = TrafficProfile(calls_per_minute=args.traffic_cpm, seed=args.seed,
                                        first_call_seconds=args.first_call_seconds)
    return config


def main(argv=None):
    """Entry point: parse, start, wait for a signal, stop."""
    from fs_cc.emulator.core import Emulator
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=getattr(logging, args.log_level.upper(), logging.INFO),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    emulator = Emulator(config_from_args(args))
    emulator.start()
    stop = gevent.event.Event()
    gevent.signal_handler(signal.SIGINT, stop.set)
    gevent.signal_handler(signal.SIGTERM, stop.set)
    stop.wait()
    logger.info("stopping the emulator")
    emulator.stop()
    return 0
