"""Outbound pacing: talk minutes per agent-hour of preview, progressive, ViciDial's adaptive and ours.

Every figure comes from the seeded simulation of fs_cc.dialer.simulate running the real pacers
(fs_cc.dialer.pacing, fs_cc.dialer.vicidial) on the same leads. First the full comparison at 20
agents, 30 % answer rate, 120 s talk, 15 s wrap-up, 20 s ring, 8 h, 3 % abandon limit; then the
grid of answer rates 0.1, 0.3, 0.6 x teams of 5, 20 and 100, with the ceiling no pacer can pass
(talk / (talk + wrap) x 60), and the targets: ours >= 50 talk min per agent-hour in the first
scenario under the limit, above the adaptive reference (each of its three modes) and progressive
in every cell, and >= 2x preview's connects per agent-hour. Nothing is asserted.

    .venv/bin/python benchmarks/dialer.py [--quick] [--hours 8] [--seed 1]
"""

import argparse
import sys
import time

from fs_cc.dialer.report import compare, table
from fs_cc.dialer.simulate import Scenario
from fs_cc.dialer.vicidial import Campaign

LIMIT = 0.03
RATES = (0.1, 0.3, 0.6)
TEAMS = (5, 20, 100)


def _cell(results):
    by = {r.pacer: r for r in results}
    adaptive = [r for r in results if r.pacer.startswith("ViciDial")]
    return by["ours"], by["progressive"], by["preview"], adaptive


def grid(hours, seed):
    """Print the grid, one line a cell; return the targets' verdicts."""
    print("talk min per agent-hour (abandon rate); ViciDial's three modes with their mean dial level")
    print(f"{'agents':>6}{'answer':>7}{'ceiling':>8}{'ours':>16}{'HARD_LIMIT':>22}{'AVERAGE':>22}"
          f"{'TAPERED':>22}{'progressive':>12}{'conn/agent-h ours':>18}{'preview':>8}{'x':>6}")
    verdicts = {"ours under the limit": True, "beats every adaptive mode": True,
                "beats every adaptive mode under the limit": True, "beats progressive": True,
                "2x preview's connects": True}
    for agents in TEAMS:
        for rate in RATES:
            scenario = Scenario(agents=agents, answer_rate=rate, hours=hours, seed=seed)
            ours, progressive, preview, adaptive = _cell(compare(scenario, LIMIT))
            ratio = ours.connects_per_agent_hour / preview.connects_per_agent_hour
            modes = "".join(f"{r.talk_per_agent_hour:>7.1f} ({r.abandon_rate:>6.2%}) {r.mean_dial_level:4.2f}"
                            for r in adaptive)
            print(f"{agents:>6}{rate:>7.1f}{scenario.ceiling():>8.1f}{ours.talk_per_agent_hour:>7.1f}"
                  f" ({ours.abandon_rate:>6.2%}){modes}{progressive.talk_per_agent_hour:>12.1f}"
                  f"{ours.connects_per_agent_hour:>18.1f}{preview.connects_per_agent_hour:>8.1f}"
                  f"{ratio:>6.2f}")
            talk = ours.talk_per_agent_hour
            verdicts["ours under the limit"] &= ours.abandon_rate <= LIMIT
            verdicts["beats every adaptive mode"] &= all(talk > r.talk_per_agent_hour for r in adaptive)
            verdicts["beats every adaptive mode under the limit"] &= all(
                talk > r.talk_per_agent_hour for r in adaptive if r.abandon_rate <= LIMIT)
            verdicts["beats progressive"] &= talk > progressive.talk_per_agent_hour
            verdicts["2x preview's connects"] &= ratio >= 2.0
            sys.stdout.flush()
    return verdicts


def main(argv=None):
    """Run the comparison and the grid."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2-hour shifts instead of 8")
    parser.add_argument("--hours", type=float, default=8.0)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    hours = 2.0 if args.quick else args.hours
    started = time.monotonic()
    scenario = Scenario(agents=20, answer_rate=0.3, talk=120, wrap=15, ring=20, hours=hours,
                        seed=args.seed)
    results = compare(scenario, LIMIT)
    print("\n".join(table(scenario, results, LIMIT, Campaign())))
    ours = results[-1]
    print(f"\ntarget >= 50 talk min per agent-hour under {LIMIT:.0%}: ours "
          f"{ours.talk_per_agent_hour:.1f} at {ours.abandon_rate:.2%} "
          f"({ours.talk_per_agent_hour / scenario.ceiling():.0%} of the ceiling): "
          f"{'met' if ours.talk_per_agent_hour >= 50 and ours.abandon_rate <= LIMIT else 'NOT met'}\n")
    verdicts = grid(hours, args.seed)
    print()
    for name, ok in verdicts.items():
        print(f"{name}: {'yes, in every cell' if ok else 'NO, not in every cell'}")
    print(f"({time.monotonic() - started:.0f} s)")


if __name__ == "__main__":
    main()
