"""The queues' live figures from a scripted day of calls: exact numbers, as docs/acd.rst defines."""

import dataclasses
import datetime
import types

from fs_cc import events
from fs_cc.acd import MemoryStore, Queue
from fs_cc.acd.figures import QueueFigures
from fs_cc.events import AgentState as S, HangupSide, QueueOutcome

T0 = datetime.datetime(2026, 12, 3, 9, 0, tzinfo=datetime.timezone.utc)


class Script:
    """Stamps events at seconds after T0, as one engine would."""

    def __init__(self):
        self.sequencer = events.EventSequencer("engine-1")

    def at(self, seconds, event_class, **fields):
        event = self.sequencer.make(event_class, **fields)
        return dataclasses.replace(event, ts=T0 + datetime.timedelta(seconds=seconds))


def make_figures(now=T0 + datetime.timedelta(hours=1)):
    store = MemoryStore(clock=lambda: now.timestamp())
    for ext, status in (("1000", "available"), ("1001", "available"), ("1002", "not_ready")):
        store.define_agent(ext, ext, ["sales"])
        store.set_status(ext, status)
    acd = types.SimpleNamespace(store=store, callers={},
                                queue_definition={"sales": Queue("sales", service_level=20)}.get)
    return QueueFigures(acd, short_abandon=5, clock=lambda: now.timestamp()), store


def a_morning(script):
    """Six callers in sales: three answered (after 10, 15 and 40 s), two abandons (after 3 s:
    short, and after 30 s), one who left with the exit key after 50 s."""
    out = []
    for n, (wait, outcome) in enumerate([(10, QueueOutcome.ANSWERED), (3, QueueOutcome.HUNG_UP),
                                         (15, QueueOutcome.ANSWERED), (30, QueueOutcome.HUNG_UP),
                                         (40, QueueOutcome.ANSWERED),
                                         (50, QueueOutcome.EXIT_KEY)]):
        call, start = f"c{n}", n * 100
        out.append(script.at(start, events.CallQueued, call_uuid=call, queue="sales",
                             priority=0, skills={}, position=1))
        out.append(script.at(start + wait, events.QueueLeft, call_uuid=call, queue="sales",
                             outcome=outcome, waited=float(wait)))
        if outcome is QueueOutcome.ANSWERED:
            agent = "1000" if n != 2 else "1001"
            out.append(script.at(start + wait, events.AnsweredByAgent, call_uuid=call,
                                 agent=agent, leg_uuid=f"leg-{n}"))
            out.append(script.at(start + wait + 60, events.CallEnded, call_uuid=call,
                                 side=HangupSide.CALLER, cause="NORMAL_CLEARING"))
            out.append(script.at(start + wait + 60, events.AgentStatusChanged, agent=agent,
                                 old=S.ON_CALL, new=S.WRAP_UP, reason="call ended"))
            out.append(script.at(start + wait + 70, events.AgentStatusChanged, agent=agent,
                                 old=S.WRAP_UP, new=S.AVAILABLE, reason="wrap-up over"))
    return out


def test_given_a_scripted_morning_then_the_figures_are_exact():
    figures, _ = make_figures()
    for event in a_morning(Script()):
        figures(event)
    got = figures.figures("sales")
    assert {k: got[k] for k in ("offered", "answered", "abandoned", "short_abandoned",
                                "overflowed", "answered_in_service_level")} == {
        "offered": 6, "answered": 3, "abandoned": 2, "short_abandoned": 1, "overflowed": 1,
        "answered_in_service_level": 2}
    # finished 6, less the one abandon within 20 s: 2 / 5
    assert got["service_level"] == 0.4
    assert got["asa"] == round((10 + 15 + 40) / 3, 3)
    assert got["aht"] == 70.0  # 60 s of talk and 10 s of wrap-up each
    assert got["agents"]["available"] == 2 and got["agents"]["not_ready"] == 1
    assert (got["waiting"], got["longest_wait"]) == (0, 0.0)


def test_given_midnight_in_the_display_zone_then_today_starts_again():
    tz = datetime.timezone(datetime.timedelta(hours=8))  # 09:00 UTC is 17:00 in Beijing
    figures, _ = make_figures(now=T0 + datetime.timedelta(hours=8))  # 01:00 there, next day
    figures.tz = tz
    script = Script()
    for event in a_morning(script):
        figures(event)
    assert figures.figures("sales")["offered"] == 0  # all of it was yesterday there
    figures(script.at(8 * 3600, events.CallQueued, call_uuid="late", queue="sales",
                      priority=0, skills={}, position=1))
    assert figures.figures("sales")["offered"] == 1


def test_given_changes_then_only_changed_queues_are_published_once():
    figures, _ = make_figures()
    published = []
    figures(Script().at(0, events.CallQueued, call_uuid="c", queue="sales", priority=0,
                        skills={}, position=1))
    assert figures.publish(lambda cls, **fields: published.append(cls(
        engine="e", seq=len(published) + 1, ts=T0, **fields))) == 1
    assert figures.publish(lambda cls, **fields: published.append(fields)) == 0
    assert isinstance(published[0], events.QueueFiguresChanged)
    assert (published[0].queue, published[0].offered) == ("sales", 1)
    assert events.decode(events.encode(published[0])) == published[0]


def test_given_the_last_30_minutes_then_only_callers_who_finished_in_them_count():
    # the morning's callers finish waiting at T0 + 10, 103, 215, 330, 440 and 550 s; at
    # T0+1830 s the window (1,800 s) holds those after T0+30 s: c1 (abandoned after 3 s,
    # within the threshold, so not counted against it), c2 (answered after 15 s: within),
    # c3 (abandoned after 30 s), c4 (answered after 40 s) and c5 (exit key); c0 has left it
    clock = [T0 + datetime.timedelta(seconds=1830)]
    figures, _ = make_figures()
    figures.clock = lambda: clock[0].timestamp()
    for event in a_morning(Script()):
        figures(event)

    got = figures.figures("sales")
    assert (got["answered_30m"], got["abandoned_30m"]) == (2, 2)
    assert got["service_level_30m"] == 0.25  # c2 within 20 s, of 5 finished less c1
    assert got["service_level"] == 0.4  # today's, unchanged

    published = []
    figures.publish(lambda cls, **fields: published.append(fields))  # the morning's changes
    clock[0] = T0 + datetime.timedelta(seconds=2400)  # past every one of them
    assert figures.publish(lambda cls, **fields: published.append(fields)) == 1
    assert (published[-1]["answered_30m"], published[-1]["service_level_30m"]) == (0, None)
