"""The Messages page: voicemails with a player that serves the WAV, SMS requests with their status
(a logged one said not delivered), survey answers; kept from agents who may not see all calls."""

import datetime
import wave

from fs_cc import events
from tests.web.support import create_user, login
from web.extensions import db
from web.facts.services import FactService, parse_batch
from web.messages.models import SendStatus, SmsRequest, VoiceMessage

T0 = datetime.datetime(2026, 3, 2, 8, 0, tzinfo=datetime.timezone.utc)


def stamped(seq, event_class, **fields):
    return events.to_dict(event_class(engine="engine-a", seq=seq,
                                      ts=T0 + datetime.timedelta(seconds=seq), call_uuid="call-1",
                                      flow="hotel", **fields))


def store(app, batch):
    with app.app_context():
        facts, rejected = parse_batch(batch)
        assert rejected == []
        FactService(db.session).store(facts)
        db.session.remove()


def a_wav(path):
    with wave.open(str(path), "wb") as handle:
        handle.setnchannels(1)
        handle.setsampwidth(2)
        handle.setframerate(8000)
        handle.writeframes(bytes(1600))
    return path


def only_message_id(app):
    with app.app_context():
        return db.session.query(VoiceMessage.id).scalar()


def supervisor(app, client):
    _, username, password = create_user(app, role="supervisor")
    login(client, username, password)


def test_the_page_lists_voicemail_sms_and_surveys(app, client, tmp_path):
    path = a_wav(tmp_path / "m.wav")
    store(app, [stamped(1, events.VoicemailLeft, node="vm", box="queue:support", path=str(path),
                        duration_ms=4000, size=1644, caller_number="13800138000"),
                stamped(2, events.SmsRequested, node="send", request_id="sms-1",
                        number="13912345678", text="Hotel Lotus, 88 Nanjing Road"),
                stamped(3, events.SurveyAnswered, node="rate", score=5, agent="1001",
                        queue="support")])
    supervisor(app, client)
    page = client.get("/messages")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "queue:support" in html and "13800138000" in html and "4 s" in html
    assert f'src="/messages/{only_message_id(app)}/audio"' in html
    assert "13912345678" in html and "Hotel Lotus, 88 Nanjing Road" in html and "queued" in html
    assert "5 / 5" in html and "1001" in html


def test_the_player_gets_the_wav_file(app, client, tmp_path):
    path = a_wav(tmp_path / "m.wav")
    store(app, [stamped(1, events.VoicemailLeft, node="vm", box="agent:1001", path=str(path))])
    supervisor(app, client)
    message_id = only_message_id(app)
    response = client.get(f"/messages/{message_id}/audio")
    assert response.status_code == 200 and response.mimetype == "audio/wav"
    assert response.get_data() == path.read_bytes()


def test_a_message_whose_file_is_gone_answers_404_saying_so(app, client, tmp_path):
    store(app, [stamped(1, events.VoicemailLeft, node="vm", box="agent:1001",
                        path=str(tmp_path / "gone.wav"))])
    supervisor(app, client)
    message_id = only_message_id(app)
    response = client.get(f"/messages/{message_id}/audio")
    assert response.status_code == 404
    assert "not readable here" in response.get_data(as_text=True)
    assert client.get("/messages/999/audio").status_code == 404


def test_a_logged_sms_is_shown_as_not_delivered(app, client):
    store(app, [stamped(1, events.SmsRequested, node="send", request_id="sms-1",
                        number="13912345678", text="hi")])
    with app.app_context():
        db.session.get(SmsRequest, "sms-1").status = SendStatus.LOGGED
        db.session.commit()
    supervisor(app, client)
    assert "written to the log, not delivered" in client.get("/messages").get_data(as_text=True)


def test_an_agent_may_not_see_the_messages(app, client):
    _, username, password = create_user(app, role="agent")
    login(client, username, password)
    assert client.get("/messages").status_code == 403
