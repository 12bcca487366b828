import random

import pytest

from fs_cc.esl.errors import ProtocolError
from fs_cc.esl.protocol import Message, Parser, parse_event
from tests.esl.wire import all_transcripts, event_bytes, received, split_plain


def _messages():
    return [m for name in all_transcripts() for m in received(name)]


def _expected(text):
    head, _, body = text.partition("\n\n")
    headers = dict(line.split(": ", 1) for line in head.split("\n"))
    return headers, body


def _check(parsed, texts):
    assert len(parsed) == len(texts)
    for message, text in zip(parsed, texts):
        headers, body = _expected(text)
        assert message.headers == headers
        assert message.body == body
        if message.content_type == "text/event-plain":
            event_headers, event_body = split_plain(body)
            event = parse_event(message)
            assert event.headers == event_headers
            assert event.body == event_body


@pytest.mark.parametrize("name", all_transcripts())
def test_given_each_recorded_message_when_fed_whole_then_headers_and_body_match(name):
    texts = received(name)
    parser = Parser()
    parsed = [m for text in texts for m in parser.feed(text.encode())]
    _check(parsed, texts)
    assert parser.pending_bytes == 0


def test_given_all_transcripts_concatenated_when_fed_at_once_then_every_message_comes_out():
    texts = _messages()
    _check(Parser().feed("".join(texts).encode()), texts)


def test_given_all_transcripts_when_fed_byte_by_byte_then_every_message_comes_out():
    texts = _messages()
    data = "".join(texts).encode()
    parser = Parser()
    parsed = []
    for i in range(len(data)):
        parsed.extend(parser.feed(data[i:i + 1]))
    _check(parsed, texts)


@pytest.mark.parametrize("seed", range(5))
def test_given_all_transcripts_when_fed_in_random_chunks_then_every_message_comes_out(seed):
    rng = random.Random(seed)
    texts = _messages()
    data = "".join(texts).encode()
    parser = Parser()
    parsed, pos = [], 0
    while pos < len(data):
        step = rng.randint(1, 5000)
        parsed.extend(parser.feed(data[pos:pos + step]))
        pos += step
    _check(parsed, texts)


def test_given_background_job_when_parsed_then_body_is_the_job_result():
    text = next(t for t in received("01_inbound_commands") if "Job-Command: originate" in t)
    event = parse_event(Parser().feed(text.encode())[0])
    assert event.name == "BACKGROUND_JOB"
    assert event.body == "-ERR NO_ANSWER\n"
    assert event.get("Job-Command-Arg") == "error/no_answer &park()"


def test_given_outbound_connect_reply_when_parsed_then_channel_data_is_decoded():
    text = received("05_outbound_socket_ivr", "outbound")[0]
    message = Parser().feed(text.encode())[0]
    assert message.content_type == "command/reply"
    assert message.reply_text == "+OK"
    event = parse_event(message)
    assert event.name == "CHANNEL_DATA"
    assert event.get("Caller-Caller-ID-Number") == "13800138000"
    assert event.variable("current_application_data") == "127.0.0.1:8084 async full"
    assert event.uuid == event.variable("uuid")


def test_given_encoded_newline_in_a_value_when_parsed_then_later_headers_are_intact():
    data = event_bytes({"Event-Name": "CUSTOM", "Event-Subclass": "fs_cc::note",
                        "Unique-ID": "u1", "variable_note": "line one\nFake-Header: injected\n\nline",
                        "Caller-Caller-ID-Name": "O'Brien, Pat"})
    event = parse_event(Parser().feed(data)[0])
    assert event.variable("note") == "line one\nFake-Header: injected\n\nline"
    assert "Fake-Header" not in event.headers
    assert event.get("Caller-Caller-ID-Name") == "O'Brien, Pat"
    assert event.name == "fs_cc::note"
    assert event.uuid == "u1"


def test_given_a_one_megabyte_body_when_fed_in_chunks_then_it_arrives_whole():
    body = "x" * (1 << 20)
    data = event_bytes({"Event-Name": "BACKGROUND_JOB", "Job-UUID": "j"}, body)
    parser = Parser()
    parsed = []
    for pos in range(0, len(data), 65536):
        parsed.extend(parser.feed(data[pos:pos + 65536]))
    assert len(parsed) == 1
    assert parse_event(parsed[0]).body == body


def test_given_unknown_content_type_when_fed_then_message_is_passed_through():
    data = b"Content-Type: text/x-future\nContent-Length: 5\n\nhello" + b"Content-Type: auth/request\n\n"
    first, second = Parser().feed(data)
    assert first.content_type == "text/x-future" and first.body == "hello"
    assert second.content_type == "auth/request"
    with pytest.raises(ProtocolError):
        parse_event(first)


def test_given_absent_content_length_when_fed_then_body_is_empty():
    (message,) = Parser().feed(b"Content-Type: command/reply\nReply-Text: +OK\n\n")
    assert message.body == "" and message.reply_text == "+OK"


def test_given_too_short_content_length_when_fed_then_parser_recovers_at_next_message():
    data = (b"Content-Type: api/response\nContent-Length: 4\n\n+OK hello\n"
            b"Content-Type: api/response\nContent-Length: 3\n\nbye")
    first, second = Parser().feed(data)
    assert first.body == "+OK "
    assert second.content_type == "api/response" and second.body == "bye"


def test_given_too_long_content_length_when_fed_then_parser_waits_for_more():
    parser = Parser()
    assert parser.feed(b"Content-Type: api/response\nContent-Length: 50\n\nshort") == []
    assert parser.pending_bytes > 0


def test_given_non_numeric_content_length_when_fed_then_protocol_error():
    with pytest.raises(ProtocolError):
        Parser().feed(b"Content-Type: api/response\nContent-Length: abc\n\nxyz")


def test_given_stray_blank_lines_between_messages_when_fed_then_they_are_skipped():
    parsed = Parser().feed(b"\n\nContent-Type: auth/request\n\n\n\nContent-Type: command/reply\nReply-Text: +OK\n\n")
    assert [m.content_type for m in parsed] == ["auth/request", "command/reply"]


def test_given_invalid_utf8_when_fed_then_it_is_replaced_not_raised():
    (message,) = Parser().feed(b"Content-Type: api/response\nContent-Length: 2\n\n\xff\xfe")
    assert isinstance(message.body, str) and len(message.body) == 2


def test_given_custom_event_without_subclass_when_named_then_name_is_custom():
    event = parse_event(Message({"Content-Type": "text/event-plain"}, "Event-Name: CUSTOM\n\n"))
    assert event.name == "CUSTOM" and event.uuid is None


def test_given_json_event_when_parsed_then_headers_and_body_come_out():
    body = '{"Event-Name": "BACKGROUND_JOB", "Job-UUID": "j1", "_body": "+OK done\\n"}'
    event = parse_event(Message({"Content-Type": "text/event-json"}, body))
    assert event.name == "BACKGROUND_JOB" and event.body == "+OK done\n" and event.get("Job-UUID") == "j1"


def test_given_chunks_that_end_on_message_boundaries_when_fed_then_each_comes_out_and_nothing_is_left():
    texts = _messages()
    parser = Parser()
    parsed = []
    for text in texts:  # the buffer is empty before each: the parser reads the bytes where they are
        parsed.extend(parser.feed(text.encode()))
        assert parser.pending_bytes == 0
    _check(parsed, texts)


def test_given_bytearray_and_memoryview_chunks_when_fed_then_messages_are_the_same():
    texts = _messages()[:40]
    data = "".join(texts).encode()
    parser = Parser()
    parsed = []
    for pos in range(0, len(data), 777):
        chunk = data[pos:pos + 777]
        parsed.extend(parser.feed(bytearray(chunk) if pos % 2 else memoryview(chunk)))
    _check(parsed, texts)


def test_given_an_event_head_with_odd_spacing_when_fed_then_the_general_reading_takes_it():
    body = b"Event-Name: HEARTBEAT\n\n"
    data = b"Content-Length:  %d \nContent-Type: text/event-plain\n\n" % len(body) + body
    (message,) = Parser().feed(data)
    assert message.headers == {"Content-Length": str(len(body)), "Content-Type": "text/event-plain"}
    assert parse_event(message).name == "HEARTBEAT"
