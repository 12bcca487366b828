"""IVR messages through the worker, on SQLite and PostgreSQL: each event stored as its row once,
the voicemail e-mail received by a real local SMTP server, SMS sent to a real local HTTP server
(a failure retried, then sent), and what waits swept back to the senders."""

import datetime
import email
import email.policy
import http.server
import json
import socket
import threading
import wave

import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller

from fs_cc import events
from tests.worker.test_store_events import T0, Engine
from web.extensions import db
from web.facts.services import FactService, parse_batch
from web.messages.gateways import build_gateway
from web.messages.models import SendStatus, SmsRequest, SurveyAnswer, VoiceMessage
from web.messages.sending import SmsSender
from web.messages.services import MessageService
from web.messages.tasks import TASK_NOTIFY_VOICEMAIL, TASK_SEND_SMS, TASK_SWEEP
from web.worker import celery_init_app

CALL = {"call_uuid": "call-1", "flow": "hotel"}


@pytest.fixture
def celery(app):
    celery_app = celery_init_app(app)
    yield celery_app
    celery_app.close()


@pytest.fixture
def settings(app):
    """The app's fs_cc settings, changed by the test (retries without waiting)."""
    value = app.extensions["fs_cc_settings"]
    value.sms_retry_seconds = 0.01
    return value


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Inbox:
    """What the local SMTP server received."""

    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos),
                              email.message_from_bytes(envelope.content,
                                                       policy=email.policy.default)))
        return "250 OK"


@pytest.fixture
def smtp_server(settings):
    """A real SMTP server (aiosmtpd) on a free port, the settings pointing at it."""
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    settings.smtp_host, settings.smtp_port = "127.0.0.1", port
    settings.smtp_from = "fs-cc@hotel.example"
    yield inbox
    controller.stop()


class SmsProvider(http.server.BaseHTTPRequestHandler):
    """A provider's HTTP API: answers each POST with the next status of ``statuses``."""

    statuses = []
    received = []

    def do_POST(self):  # noqa: N802 (http.server's name)
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).received.append((json.loads(body), self.headers.get("Authorization")))
        status = type(self).statuses.pop(0) if type(self).statuses else 200
        self.send_response(status)
        self.end_headers()
        self.wfile.write(b'{"code": 0}' if status == 200 else b'{"code": 500}')

    def log_message(self, *args):
        pass


@pytest.fixture
def sms_provider(settings):
    """make(statuses) -> the handler class of a real HTTP server the settings send to."""
    servers = []

    def make(statuses):
        handler = type("Provider", (SmsProvider,), {"statuses": list(statuses), "received": []})
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        settings.sms_gateway = "http"
        settings.sms_http_url = f"http://127.0.0.1:{server.server_address[1]}/sms/send"
        settings.sms_http_token = "t0ken"
        return handler

    yield make
    for server in servers:
        server.shutdown()
        server.server_close()


def rows(app, model):
    with app.app_context():
        return [row.to_dict() for row in db.session.execute(sa.select(model)).scalars()]


def store(celery, batch):
    return celery.tasks[events.TASK_STORE_EVENTS].apply(args=[batch]).get()


def write_wav(path, seconds=2):
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as handle:
        handle.setnchannels(1)
        handle.setsampwidth(2)
        handle.setframerate(8000)
        handle.writeframes(bytes(2 * 8000 * seconds))
    return path


def voicemail(engine, path, **fields):
    values = dict(node="vm", box="queue:support", path=str(path), duration_ms=2000, size=32044,
                  caller_number="13800138000", email=None)
    values.update(fields)
    return engine.at(30, events.VoicemailLeft, **CALL, **values)


def sms(engine, request_id="sms-1", number="13800138000"):
    return engine.at(40, events.SmsRequested, **CALL, node="send", request_id=request_id,
                     number=number, text="Hotel Lotus, 88 Nanjing Road / 南京路88号")


def test_each_message_event_becomes_its_row_once(app, celery, tmp_path):
    engine = Engine()
    batch = [voicemail(engine, tmp_path / "vm.wav"),
             engine.at(35, events.MessageRecorded, **CALL, node="leave",
                       path=str(tmp_path / "rec.wav"), duration_ms=4000, size=64044,
                       cause="silence"),
             sms(engine),
             engine.at(50, events.SurveyAnswered, **CALL, node="survey", score=4, agent="1001",
                       queue="support")]
    store(celery, batch)
    store(celery, batch)  # a redelivered batch adds nothing
    messages = sorted(rows(app, VoiceMessage), key=lambda row: row["kind"])
    assert [(m["kind"], m["box"], m["duration_ms"], m["cause"]) for m in messages] == [
        ("recording", None, 4000, "silence"), ("voicemail", "queue:support", 2000, "")]
    assert messages[1]["caller_number"] == "13800138000"
    assert messages[1]["left_at"] == (T0 + datetime.timedelta(seconds=30)).isoformat()
    assert messages[0]["notice_status"] is None  # a record node's message tells nobody
    [text] = rows(app, SmsRequest)
    assert (text["id"], text["number"], text["text"]) == (
        "sms-1", "13800138000", "Hotel Lotus, 88 Nanjing Road / 南京路88号")
    assert (text["status"], text["attempts"]) == ("queued", 0)  # handed to send_sms
    [answer] = rows(app, SurveyAnswer)
    assert (answer["score"], answer["agent"], answer["queue"]) == (4, "1001", "support")


def test_a_survey_without_a_valid_key_is_stored_without_score(app, celery):
    store(celery, [Engine().at(50, events.SurveyAnswered, **CALL, node="survey", score=None)])
    [answer] = rows(app, SurveyAnswer)
    assert answer["score"] is None and answer["agent"] is None


def test_the_voicemail_email_reaches_the_smtp_server_with_the_wav(app, celery, smtp_server,
                                                                   settings, tmp_path):
    settings.voicemail_emails = {"queue:support": "support-lead@hotel.example"}
    path = write_wav(tmp_path / "2026-03-02" / "voicemail" / "queue" / "support" / "m.wav")
    store(celery, [voicemail(Engine(), path)])
    [row] = rows(app, VoiceMessage)
    assert celery.tasks[TASK_NOTIFY_VOICEMAIL].apply(args=[row["id"]]).get() == "sent"
    [(sender, to, message)] = smtp_server.messages
    assert (sender, to) == ("fs-cc@hotel.example", ["support-lead@hotel.example"])
    assert "queue:support" in message["Subject"] and "13800138000" in message["Subject"]
    [attachment] = list(message.iter_attachments())
    assert attachment.get_filename() == "m.wav"
    assert attachment.get_content() == path.read_bytes()
    [row] = rows(app, VoiceMessage)
    assert (row["notice_status"], row["notice_attempts"], row["notice_error"]) == ("sent", 1, None)
    # a second delivery of the task sends nothing more
    assert celery.tasks[TASK_NOTIFY_VOICEMAIL].apply(args=[row["id"]]).get() == "sent"
    assert len(smtp_server.messages) == 1


def test_the_nodes_own_address_wins_and_a_big_file_is_named_not_attached(
        app, celery, smtp_server, settings, tmp_path):
    settings.voicemail_email_to = "everyone@hotel.example"
    settings.voicemail_attach_max_kb = 1
    path = write_wav(tmp_path / "big.wav", seconds=3)
    store(celery, [voicemail(Engine(), path, email="night-manager@hotel.example")])
    [row] = rows(app, VoiceMessage)
    celery.tasks[TASK_NOTIFY_VOICEMAIL].apply(args=[row["id"]]).get()
    [(_, to, message)] = smtp_server.messages
    assert to == ["night-manager@hotel.example"]
    assert list(message.iter_attachments()) == []
    assert str(path) in message.get_body().get_content()


def test_a_voicemail_without_any_address_is_skipped_with_the_reason(app, celery, settings,
                                                                   tmp_path):
    store(celery, [voicemail(Engine(), tmp_path / "m.wav")])
    [row] = rows(app, VoiceMessage)
    assert celery.tasks[TASK_NOTIFY_VOICEMAIL].apply(args=[row["id"]]).get() == "skipped"
    [row] = rows(app, VoiceMessage)
    assert "no e-mail address for queue:support" in row["notice_error"]


def test_a_mail_server_down_keeps_the_notice_queued_then_failed_with_the_reason(
        app, celery, settings, tmp_path):
    settings.smtp_host, settings.smtp_port = "127.0.0.1", free_port()  # nobody listens there
    settings.voicemail_email_to = "lead@hotel.example"
    store(celery, [voicemail(Engine(), write_wav(tmp_path / "m.wav"))])
    [row] = rows(app, VoiceMessage)
    assert celery.tasks[TASK_NOTIFY_VOICEMAIL].apply(args=[row["id"]]).get() == "failed"
    [row] = rows(app, VoiceMessage)
    assert row["notice_attempts"] == 10  # retried by the task itself, then given up
    assert f"no mail server at 127.0.0.1:{settings.smtp_port}" in row["notice_error"]


def test_an_sms_the_provider_fails_once_is_retried_then_sent(app, celery, sms_provider):
    provider = sms_provider([503])
    store(celery, [sms(Engine())])
    assert celery.tasks[TASK_SEND_SMS].apply(args=["sms-1"]).get() == "sent"
    assert [body for body, _ in provider.received] == [
        {"number": "13800138000", "text": "Hotel Lotus, 88 Nanjing Road / 南京路88号",
         "request_id": "sms-1"}] * 2
    assert provider.received[0][1] == "Bearer t0ken"
    [row] = rows(app, SmsRequest)
    assert (row["status"], row["attempts"], row["gateway"], row["last_error"]) == (
        "sent", 2, "http", None)
    assert row["sent_at"] is not None


def test_an_sms_the_provider_refuses_fails_at_once_with_the_reason(app, celery, sms_provider):
    provider = sms_provider([400])
    store(celery, [sms(Engine())])
    assert celery.tasks[TASK_SEND_SMS].apply(args=["sms-1"]).get() == "failed"
    assert len(provider.received) == 1
    [row] = rows(app, SmsRequest)
    assert row["status"] == "failed" and row["last_error"].startswith("HTTP 400 from http://")


def test_an_sms_failing_every_time_gives_up_after_max_attempts(app, celery, settings,
                                                               sms_provider):
    settings.sms_max_attempts = 3
    provider = sms_provider([500, 500, 500, 500])
    store(celery, [sms(Engine())])
    assert celery.tasks[TASK_SEND_SMS].apply(args=["sms-1"]).get() == "failed"
    assert len(provider.received) == 3
    [row] = rows(app, SmsRequest)
    assert (row["attempts"], row["status"]) == (3, "failed")
    assert "HTTP 500" in row["last_error"]


def test_the_log_gateway_marks_the_sms_logged_not_sent(app, celery, settings, caplog):
    settings.sms_gateway = "log"
    store(celery, [sms(Engine())])
    assert celery.tasks[TASK_SEND_SMS].apply(args=["sms-1"]).get() == "logged"
    [row] = rows(app, SmsRequest)
    assert (row["status"], row["gateway"]) == ("logged", "log")
    assert "NOT delivered" in caplog.text


def test_a_misconfigured_gateway_keeps_the_sms_queued_with_the_setting_named(app, celery,
                                                                             settings):
    settings.sms_gateway = "smpp"
    store(celery, [sms(Engine())])
    with app.app_context():
        outcome = SmsSender(db.session, lambda: build_gateway(settings)).send("sms-1")
        db.session.remove()
    assert outcome.status is SendStatus.QUEUED and "issue 19" in outcome.reason
    [row] = rows(app, SmsRequest)
    assert (row["status"], row["attempts"]) == ("queued", 0)
    assert "sms_gateway: 'smpp'" in row["last_error"]


def test_a_lost_hand_off_leaves_the_request_queued_and_the_sweep_finds_it(app, celery, settings):
    def broker_down(_):
        raise ConnectionError("broker down")

    batch = [sms(Engine()), voicemail(Engine("engine-b"), "/nowhere/m.wav")]
    with app.app_context():
        facts, _ = parse_batch(batch)
        FactService(db.session, senders={"sms": broker_down, "voicemail": broker_down}) \
            .store(facts)
        db.session.remove()
    [row] = rows(app, SmsRequest)
    assert row["status"] == "queued"
    sweep = celery.tasks[TASK_SWEEP]
    assert sweep.apply(kwargs={"now": T0 + datetime.timedelta(seconds=41)}).get() == {
        "sms": 0, "voicemail": 0}  # not overdue yet: a hand-off may still be on its way
    later = T0 + datetime.timedelta(minutes=10)
    assert sweep.apply(kwargs={"now": later}).get() == {"sms": 1, "voicemail": 1}


def test_message_service_refuses_a_too_long_box_and_stores_the_rest(app, caplog):
    engine = Engine()
    with app.app_context():
        service = MessageService(db.session)
        too_long = voicemail(engine, "/a.wav", box="queue:" + "x" * 90)
        added = service.apply([events.from_dict(too_long), events.from_dict(sms(engine))])
        db.session.commit()
        db.session.remove()
    assert added == 1
    assert "field box longer than 80" in caplog.text
