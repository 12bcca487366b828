"""ViciDial's adaptive predictive dialing, reimplemented as a reference pacer (pure).

From its public source (AGPLv2), ``bin/AST_VDadapt.pl`` version 2.14 (which sets the dial level)
and ``bin/AST_VDauto_dial.pl`` (which places calls by it); line numbers are those of the copy
read, the ViciDial tree as of November 2024. The campaign settings keep ViciDial's names and
its schema defaults (``extras/MySQL_AST_CREATE_tables.sql``).

- AST_VDadapt.pl loops once a second (``usleep($CLIdelay*1000*1000)``, line 2467, CLIdelay 1).
  Each loop ``count_agents_lines`` (lines 2638-2730) samples the READY/DONE agents, the LIVE
  calls (answered, waiting for an agent) and every logged-in agent, and averages the last 15
  samples (``$stat_it=15``; fewer at start-up): ``stat_differential = ready_diff_avg -
  waiting_diff_avg``, ``total_agents_avg``.
- Every 60 loops ``calculate_drops`` (``drop_count_updater >= 60``, line 639; it starts at 61 so
  the first loop counts, line 128) counts calls, answers and drops since midnight and in the last
  minute; drops over answers today is ``VCSdrops_answers_today_pct`` (line 3927), drops over
  calls in the last minute ``VCSdrops_one_pct`` (line 3104). DROP counts as human-answered
  (``vicidial_statuses``), so answers include the drops.
- Every 15 loops ``calculate_dial_level`` (``diff_ratio_updater >= 15``, line 645; lines
  6777-7035): ``differential_target = differential_onemin + adaptive_dl_diff_target`` (6889);
  ``differential_mul = differential_target / agents_average_onemin`` (6892); the intensity
  (``adaptive_intensity / 100``) scales a rise by (1 + i) and a fall by |i - 1| (6903-6910);
  ``intensity_dial_level = auto_dial_level * (intensity_diff_mul + 1)`` (6919), capped at
  ``adaptive_maximum_level`` (6950) and floored at 1 (6956). Then the drop rules: more than 20
  calls in the last minute with over 50 % of them dropped halves the level (6969); more than 50
  calls today with drops over answers above ``adaptive_dropped_percentage`` (6974) sets it to 1.0
  under ADAPT_HARD_LIMIT (6976), halves it under ADAPT_AVERAGE (6981), and under ADAPT_TAPERED
  (6986) multiplies it by ``tapered_rate`` = hours left to ``adaptive_latest_server_time`` / 1000
  in HHMM arithmetic, at most 1 (6925-6929), or sets 1.0 once that time is past. Last, a level
  under 1 is raised to 1.0 (7024) and written to the campaign (7030).
- AST_VDauto_dial.pl loops every 2.5 s (``$loop_delay = '2500'``, line 224). Its agent count is
  READY/CLOSER/DONE plus INCALL agents, less those whose call is over (DEAD: in wrap-up, lines
  1145-1172); ``goalcalls = adlevel * count`` rounded (1206, 1228); ``existcalls`` the campaign's
  calls SENT, RINGING, LIVE, XFER or CLOSER (1397, 1409): ringing, waiting and talking; and it
  places ``makecalls = goalcalls - existcalls`` (1427).
- The shift starts as ViciDial's does: drop statistics from midnight (``$VDL_date``, line 2561),
  so empty; the 15-sample average filling up; the dial level where the campaign stands, here its
  floor 1.0 ("the dial_level will never drop below 1.0", docs/PREDICTIVE.txt).
"""

import collections
import dataclasses

from fs_cc.dialer.pacing import Outcome

METHODS = ("ADAPT_HARD_LIMIT", "ADAPT_AVERAGE", "ADAPT_TAPERED")


@dataclasses.dataclass(frozen=True)
class Campaign:
    """The vicidial_campaigns settings the adaptive methods read, with the schema's defaults."""

    dial_method: str = "ADAPT_HARD_LIMIT"
    auto_dial_level: float = 1.0
    adaptive_maximum_level: float = 3.0
    adaptive_dropped_percentage: float = 3.0
    adaptive_intensity: float = 0.0
    adaptive_dl_diff_target: float = 0.0
    adaptive_latest_server_time: int = 2100
    shift_start_hourmin: int = 900  # the server clock when the simulated shift starts


class AdaptivePacer:
    """ViciDial's ADAPT_* dial level (AST_VDadapt.pl) driving its call placing (AST_VDauto_dial.pl)."""

    interval = 0.5  # the simulator's tick; the two loops keep their own 1 s and 2.5 s paces
    on_free = False  # AST_VDauto_dial.pl only places calls on its loop
    agent_bound = False

    def __init__(self, campaign=None):
        self.campaign = campaign or Campaign()
        self.name = f"ViciDial {self.campaign.dial_method}"
        self.level = self.campaign.auto_dial_level
        self._samples = collections.deque(maxlen=15)  # (ready, waiting, total), $stat_it
        self._diff_ratio_updater = 0
        self._drop_count_updater = 61
        self._next_adapt = 0.0
        self._next_dial = 0.0
        self._calls_today = self._answers_today = self._drops_today = 0
        self._dials = collections.deque()  # dial times, for the one-minute window
        self._drop_times = collections.deque()
        self.calls_one = self.drops_one = self.calls_today = 0
        self.drops_one_pct = self.drops_answers_today_pct = 0.0
        self.level_seconds = self.logged_seconds = 0.0
        self.last_note = ""

    def observe(self, outcome, now, seconds=0.0):
        """Log a call's status as vicidial_log would."""
        if outcome is Outcome.DIALED:
            self._calls_today += 1
            self._dials.append(now)
        elif outcome is Outcome.CONNECTED:
            self._answers_today += 1
        elif outcome is Outcome.ABANDONED:
            self._answers_today += 1
            self._drops_today += 1
            self._drop_times.append(now)

    def mean_level(self):
        """The dial level averaged over the time agents were logged in."""
        return self.level_seconds / self.logged_seconds if self.logged_seconds else self.level

    def dials(self, view):
        """Run whichever of the two loops is due; the calls AST_VDauto_dial.pl places now."""
        while view.now >= self._next_adapt:
            self._adapt_loop(view)
            self._next_adapt += 1.0
        if view.now < self._next_dial:
            return 0
        self._next_dial = view.now + 2.5
        count = view.free + len(view.talking)  # READY + INCALL, DEAD (wrap-up) left out
        goal = round(self.level * count)
        exist = len(view.ringing) + view.waiting + len(view.talking)
        return max(0, goal - exist)

    def _adapt_loop(self, view):
        if view.logged_in > 0:
            self.level_seconds += self.level
            self.logged_seconds += 1.0
        self._samples.append((view.free, view.waiting, view.logged_in))
        n = len(self._samples)
        ready_avg = sum(s[0] for s in self._samples) / n
        waiting_avg = sum(s[1] for s in self._samples) / n
        total_avg = sum(s[2] for s in self._samples) / n
        if total_avg > 0:
            if self._drop_count_updater >= 60:
                self._calculate_drops(view.now)
                self._drop_count_updater = 0
            if self._diff_ratio_updater >= 15:
                self._calculate_dial_level(view.now, ready_avg - waiting_avg, total_avg)
                self._diff_ratio_updater = 0
        self._diff_ratio_updater += 1
        self._drop_count_updater += 1

    def _calculate_drops(self, now):
        while self._dials and self._dials[0] <= now - 60:
            self._dials.popleft()
        while self._drop_times and self._drop_times[0] <= now - 60:
            self._drop_times.popleft()
        self.calls_today = self._calls_today
        self.calls_one, self.drops_one = len(self._dials), len(self._drop_times)
        self.drops_one_pct = 100.0 * self.drops_one / self.calls_one if self.calls_one else 0.0
        self.drops_answers_today_pct = 100.0 * self._drops_today / max(1, self._answers_today)

    def _hourmin(self, now):
        start = self.campaign.shift_start_hourmin
        minutes = (start // 100) * 60 + start % 100 + int(now // 60)
        return (minutes // 60 % 24) * 100 + minutes % 60

    def _calculate_dial_level(self, now, differential_onemin, agents_average_onemin):
        c = self.campaign
        target = differential_onemin + c.adaptive_dl_diff_target
        mul = target / agents_average_onemin if target and agents_average_onemin else 0.0
        pct_raw = mul * 100
        intensity_mul = c.adaptive_intensity / 100
        if pct_raw < 0:
            intensity_diff = pct_raw * abs(intensity_mul - 1)
        else:
            intensity_diff = pct_raw * (intensity_mul + 1)
        level = round(self.level * (intensity_diff / 100 + 1), 3)
        tapered_hours_left = c.adaptive_latest_server_time - self._hourmin(now)
        tapered_rate = 1.0 if tapered_hours_left > 1000 else tapered_hours_left / 1000
        level = min(level, c.adaptive_maximum_level)
        level = max(level, 1.0)
        self.last_note = ""
        if self.calls_one > 20 and self.drops_one_pct > 50:
            level /= 2
            self.last_note = "one-minute drops over 50 %: halved"
        if self.calls_today > 50 and self.drops_answers_today_pct > c.adaptive_dropped_percentage:
            if c.dial_method == "ADAPT_HARD_LIMIT":
                level = 1.0
            elif c.dial_method == "ADAPT_AVERAGE":
                level /= 2
            elif c.dial_method == "ADAPT_TAPERED":
                level = 1.0 if tapered_hours_left < 0 else level * tapered_rate
            self.last_note = f"drops today over limit: {c.dial_method}"
        self.level = max(level, 1.0)
