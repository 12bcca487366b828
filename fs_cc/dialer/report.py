"""The pacers compared on one scenario, as the simulator command and the benchmark print them."""

import dataclasses

from fs_cc.dialer.abandon import AbandonPolicy
from fs_cc.dialer.pacing import PredictivePacer, PreviewPacer, ProgressivePacer
from fs_cc.dialer.simulate import simulate
from fs_cc.dialer.vicidial import METHODS, AdaptivePacer, Campaign


def pacers(limit=0.03, campaign=None):
    """Fresh pacers, in table order: preview, progressive, ViciDial's three, ours."""
    campaign = campaign or Campaign()
    adaptive = [AdaptivePacer(dataclasses.replace(campaign, dial_method=method,
                                                  adaptive_dropped_percentage=limit * 100))
                for method in METHODS]
    policy = AbandonPolicy(limit=limit)
    return [PreviewPacer(), ProgressivePacer(), *adaptive, PredictivePacer(policy=policy)]


def shift_campaign(scenario, campaign=None):
    """The campaign with adaptive_latest_server_time at the shift's end, as its manual asks."""
    campaign = campaign or Campaign()
    start = campaign.shift_start_hourmin
    minutes = (start // 100) * 60 + start % 100 + int(round(scenario.hours * 60))
    return dataclasses.replace(campaign, adaptive_latest_server_time=(minutes // 60 % 24) * 100
                               + minutes % 60)


def compare(scenario, limit=0.03, campaign=None):
    """Each pacer's Result on the same scenario (same seed, same leads)."""
    return [simulate(scenario, pacer)
            for pacer in pacers(limit, shift_campaign(scenario, campaign))]


def campaign_lines(campaign):
    """The adaptive reference's parameters, one line each."""
    c = campaign
    return [f"  dial level start {c.auto_dial_level:.1f}, clamped to [1.0, adaptive_maximum_level "
            f"{c.adaptive_maximum_level:.1f}]; recomputed every 15 s from READY agents minus LIVE "
            f"calls over the last 15 one-second samples",
            f"  adaptive_dropped_percentage (from --abandon-limit) over answers since midnight,"
            f" checked once there are > 50 calls; adaptive_intensity {c.adaptive_intensity:g},"
            f" adaptive_dl_diff_target {c.adaptive_dl_diff_target:g}",
            f"  adaptive_latest_server_time {c.adaptive_latest_server_time:04d} (ADAPT_TAPERED: the"
            f" shift's end) for a shift from {c.shift_start_hourmin:04d}; calls placed every 2.5 s:"
            f" round(level x (READY + INCALL)) - (ringing + waiting + talking)"]


HEADER = (f"{'pacer':<26}{'talk min/agent-h':>17}{'occupancy':>10}{'wait s':>8}{'abandon':>9}"
          f"{'connects/h':>11}{'conn/agent-h':>13}{'dial level':>11}")


def row(result):
    """One pacer's figures as a table line."""
    level = f"{result.mean_dial_level:.2f}" if result.mean_dial_level is not None else "-"
    return (f"{result.pacer:<26}{result.talk_per_agent_hour:>17.1f}{result.occupancy:>10.1%}"
            f"{result.wait_between_calls:>8.1f}{result.abandon_rate:>9.2%}"
            f"{result.connects_per_hour:>11.0f}{result.connects_per_agent_hour:>13.1f}{level:>11}")


def table(scenario, results, limit, campaign=None):
    """The comparison of one scenario as printable lines."""
    s = scenario
    lines = [f"{s.agents} agents, answer rate {s.answer_rate:g}, talk {s.talk:g} s, wrap-up "
             f"{s.wrap:g} s, ring {s.ring:g} s, {s.hours:g} h, abandon limit {limit:.1%}, grace "
             f"{s.grace:g} s, seed {s.seed}",
             f"ceiling (talk / (talk + wrap) x 60): {s.ceiling():.1f} talk min per agent-hour",
             "ViciDial adaptive reference (AST_VDadapt.pl + AST_VDauto_dial.pl):",
             *campaign_lines(shift_campaign(s, campaign)), "", HEADER]
    lines += [row(r) for r in results]
    return lines
