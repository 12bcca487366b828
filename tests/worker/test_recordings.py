"""Recordings reach the database through the events: the file's size and SHA-256, an empty or
missing file reported, a refusal kept, a redelivery harmless, and retention deleting old files."""

import datetime
import hashlib
import logging

import pytest
import sqlalchemy as sa

from fs_cc import events
from tests.worker.test_store_events import T0, Engine
from web.audit import actions
from web.audit.models import AuditEntry
from web.extensions import db
from web.recordings.models import Recording, RecordingStatus
from web.recordings.services import RecordingService
from web.recordings.tasks import TASK_PURGE_RECORDINGS
from web.worker import celery_init_app


@pytest.fixture
def celery(app):
    celery_app = celery_init_app(app)
    yield celery_app
    celery_app.close()


def rows(app):
    with app.app_context():
        return {row.path: row.to_dict() for row in db.session.execute(sa.select(Recording)).scalars()}


def recorded(engine, path, uuid="call-1", stop=True, **stopped):
    batch = [engine.at(10, events.RecordingStarted, call_uuid=uuid, path=str(path), mode="stereo",
                       queue="sales", agent="1000")]
    if stop:
        fields = dict(duration_ms=60000, size=1920044, cause="success-silence", discarded=False)
        fields.update(stopped)
        batch.append(engine.at(70, events.RecordingStopped, call_uuid=uuid, path=str(path), **fields))
    return batch


def test_a_stopped_recording_is_stored_with_the_file_size_and_checksum(app, celery, tmp_path):
    path = tmp_path / "2026-03-02" / "sales" / "call-1.wav"
    path.parent.mkdir(parents=True)
    path.write_bytes(b"RIFF" + bytes(range(256)) * 40)
    store = celery.tasks[events.TASK_STORE_EVENTS]
    store.apply(args=[recorded(Engine(), path)]).get()
    row = rows(app)[str(path)]
    assert row["status"] == "stored"
    assert row["size_bytes"] == path.stat().st_size
    assert row["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert (row["mode"], row["queue"], row["agent"], row["duration_ms"]) == ("stereo", "sales", "1000", 60000)
    assert row["started_at"] == (T0 + datetime.timedelta(seconds=10)).isoformat()
    assert row["completion_cause"] == "success-silence" and row["problem"] is None


def test_a_redelivered_batch_changes_nothing(app, celery, tmp_path):
    path = tmp_path / "call-1.wav"
    path.write_bytes(b"RIFF....")
    batch = recorded(Engine(), path)
    store = celery.tasks[events.TASK_STORE_EVENTS]
    store.apply(args=[batch]).get()
    first = rows(app)
    store.apply(args=[batch]).get()
    assert rows(app) == first and len(first) == 1


def test_a_recording_in_progress_is_kept_as_recording(app, celery, tmp_path):
    path = tmp_path / "call-1.wav"
    celery.tasks[events.TASK_STORE_EVENTS].apply(args=[recorded(Engine(), path, stop=False)]).get()
    assert rows(app)[str(path)]["status"] == "recording"


def test_an_empty_recording_is_reported_not_silently_missing(app, celery, tmp_path, caplog):
    path = tmp_path / "call-1.wav"
    batch = recorded(Engine(), path, duration_ms=0, size=44, cause="empty-file", discarded=True)
    with caplog.at_level(logging.WARNING, logger="web.recordings.services"):
        celery.tasks[events.TASK_STORE_EVENTS].apply(args=[batch]).get()
    row = rows(app)[str(path)]
    assert row["status"] == "empty"
    assert "discarded" in row["problem"] and "empty-file" in row["problem"]
    assert str(path) in caplog.text


def test_a_file_the_worker_cannot_find_is_reported_missing(app, celery, tmp_path):
    path = tmp_path / "elsewhere" / "call-1.wav"  # never written where the worker looks
    celery.tasks[events.TASK_STORE_EVENTS].apply(args=[recorded(Engine(), path)]).get()
    row = rows(app)[str(path)]
    assert row["status"] == "missing"
    assert "shared with the worker" in row["problem"]
    assert row["sha256"] is None and row["size_bytes"] == 1920044  # what the switch said


def test_a_refused_recording_is_kept_with_the_switch_answer(app, celery, tmp_path):
    path = tmp_path / "call-2.wav"
    batch = [Engine().at(5, events.RecordingFailed, call_uuid="call-2", path=str(path),
                         reason="-ERR Cannot locate session!")]
    celery.tasks[events.TASK_STORE_EVENTS].apply(args=[batch]).get()
    row = rows(app)[str(path)]
    assert (row["status"], row["problem"]) == ("failed", "-ERR Cannot locate session!")


def test_retention_deletes_old_files_and_keeps_recent_ones(app, celery, tmp_path, caplog):
    old, recent = tmp_path / "old.wav", tmp_path / "recent.wav"
    for path in (old, recent):
        path.write_bytes(b"RIFF....")
    engine = Engine()
    now = datetime.datetime.now(datetime.timezone.utc)
    batch = [events.to_dict(events.RecordingStarted(
                engine=engine.name, seq=seq, ts=ts, call_uuid=uuid, path=str(path)))
             for seq, (ts, uuid, path) in enumerate(
                 [(now - datetime.timedelta(days=31), "old", old),
                  (now - datetime.timedelta(days=29), "recent", recent)], start=1)]
    celery.tasks[events.TASK_STORE_EVENTS].apply(args=[batch]).get()
    with caplog.at_level(logging.INFO, logger="web.recordings.services"):
        removed = celery.tasks[TASK_PURGE_RECORDINGS].apply(kwargs={"retention_days": 30}).get()
    assert removed == 1
    assert not old.exists() and recent.exists()
    found = rows(app)
    assert found[str(old)]["status"] == "deleted" and found[str(old)]["deleted_at"]
    assert found[str(recent)]["status"] == "recording"
    assert f"removed {old}" in caplog.text
    with app.app_context():  # a deletion, audited with what went and why
        entry = db.session.execute(sa.select(AuditEntry).where(
            AuditEntry.action == actions.DATA_DELETED)).scalar_one()
        assert (entry.username, entry.target) == ("retention", "1 recording(s)")
        assert entry.detail == {"reason": "older than 30 days", "paths": [str(old)]}
    # run again: nothing more to do, the deleted row stays for the reports
    assert celery.tasks[TASK_PURGE_RECORDINGS].apply(kwargs={"retention_days": 30}).get() == 0
    with app.app_context():
        assert len(RecordingService(db.session).of_call("old")) == 1


def test_the_worker_runs_retention_on_its_beat_schedule(celery):
    entry = celery.conf.beat_schedule["purge-recordings"]
    assert entry["task"] == TASK_PURGE_RECORDINGS and entry["task"] in celery.tasks
