"""What an engine that died left in its spool, the next run of it knows before the worker does."""

import datetime

from fs_cc import events
from fs_cc.control import commands
from fs_cc.engine import Engine
from fs_cc.outbox import Outbox
from tests.engine.support import RecordingPublisher, engine_settings


def test_given_a_callback_completed_before_a_crash_when_the_worker_resends_it_then_not_called_twice(
        tmp_path):
    settings = engine_settings(tmp_path, "127.0.0.1", 9)
    # the first run completed cb-1 and died before its outbox reached the worker
    spool = Outbox(settings.outbox_path, RecordingPublisher())
    seq = events.EventSequencer("e-old")
    spool.append(seq.make(events.CallbackCompleted, callback_id="cb-1", agent="1000",
                          call_uuid="c1", attempts=1))
    del spool

    engine = Engine(settings, publisher=RecordingPublisher())
    # the worker's beat re-sends the request it still holds as in progress
    since = datetime.datetime(2026, 3, 2, 8, 0, tzinfo=datetime.timezone.utc)
    answer = engine.callbacks.take(commands.QueueCallback(
        callback_id="cb-1", queue=min(engine.acd.queue_names()), number="5557000111", since=since))

    assert (answer["taken"], answer["state"]) == (False, "completed")
    assert engine.callbacks.requests == {}
