import pytest

from fs_cc.esl import commands


def _fs_cleanup(text, delim):
    """FreeSWITCH's cleanup_separated_string: unescape, strip quotes (switch_utils.c)."""
    out, i, inside = [], 0, False
    unesc = {"n": "\n", "r": "\r", "t": "\t", "s": " "}
    while i < len(text):
        ch = text[i]
        if ch == "\\" and i + 1 < len(text):
            nxt = text[i + 1]
            if nxt in "'\"\\" or (delim and nxt == delim) or nxt in unesc:
                out.append(unesc.get(nxt, nxt))
                i += 2
                continue
        if ch == "'" and (inside or "'" in text[i + 1:]):
            inside = not inside
        else:
            out.append(ch)
        i += 1
    return "".join(out)


def _fs_split(text, delim):
    """FreeSWITCH's switch_separate_string for one delimiter, with cleanup."""
    parts, cur, i, inside = [], [], 0, False
    while i < len(text):
        ch = text[i]
        if ch == "\\" and i + 1 < len(text):
            cur.append(text[i:i + 2])
            i += 2
            continue
        if ch == "'":
            inside = not inside
        if ch == delim and not inside:
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
        i += 1
    parts.append("".join(cur))
    return [_fs_cleanup(p, delim if delim != " " else None) for p in parts if p or delim != " "]


def _fs_bracket_vars(block):
    assert block[0] == "{" and block[-1] == "}"
    result = {}
    for item in _fs_split(block[1:-1], ","):
        name, _, value = item.partition("=")
        result[name] = value
    return result


TRICKY = {"origination_caller_id_name": "O'Brien, Pat", "fs_cc_note": 'say "hi"\\now',
          "fs_cc_queue": "sales", "fs_cc_spaces": " padded ", "fs_cc_multi": "a\nb"}


def test_given_tricky_values_when_built_for_bridge_then_freeswitch_reads_them_back():
    assert _fs_bracket_vars(commands.channel_vars(TRICKY)) == TRICKY


def test_given_tricky_values_when_originated_then_api_split_then_bracket_parse_gives_them_back():
    text = commands.originate("user/1001", variables=TRICKY)
    argv = _fs_split(text[len("originate "):], " ")
    assert len(argv) == 2 and argv[1] == "&park()"
    dial = argv[0]
    end = dial.index("}user/1001")
    assert dial[end + 1:] == "user/1001"
    assert _fs_bracket_vars(dial[:end + 1]) == TRICKY


def test_given_simple_vars_when_originated_then_text_matches_the_recorded_form():
    text = commands.originate("loopback/5901/public", variables={
        "origination_caller_id_number": "13800138000", "origination_caller_id_name": "Bob"})
    assert text == ("originate {origination_caller_id_number=13800138000,origination_caller_id_name=Bob}"
                    "loopback/5901/public &park()")


def test_given_no_vars_when_built_then_empty():
    assert commands.channel_vars({}) == "" and commands.channel_vars(None) == ""
    assert commands.originate("user/1000") == "originate user/1000 &park()"


@pytest.mark.parametrize("bad", [{"a b": "x"}, {"a=b": "x"}, {"ok": "{unbalanced"}])
def test_given_bad_variable_when_built_then_value_error(bad):
    with pytest.raises(ValueError):
        commands.channel_vars(bad)


def test_given_uuid_commands_when_built_then_text_is_what_freeswitch_expects():
    assert commands.uuid_bridge("a", "b") == "uuid_bridge a b"
    assert commands.uuid_kill("a") == "uuid_kill a"
    assert commands.uuid_kill("a", "USER_BUSY") == "uuid_kill a USER_BUSY"
    assert commands.uuid_break("a") == "uuid_break a"
    assert commands.uuid_break("a", all=True) == "uuid_break a all"
    assert commands.uuid_transfer("a", "5000") == "uuid_transfer a 5000"
    assert commands.uuid_transfer("a", "5000", context="default") == "uuid_transfer a 5000 XML default"
    assert commands.uuid_transfer("a", "5000", leg="bleg") == "uuid_transfer a -bleg 5000"
    assert commands.uuid_broadcast("a", "hold.wav") == "uuid_broadcast a hold.wav aleg"
    assert commands.uuid_getvar("a", "x") == "uuid_getvar a x"
    assert commands.uuid_setvar("a", "x", "1 2") == "uuid_setvar a x 1 2"
    assert commands.uuid_setvar("a", "x") == "uuid_setvar a x"


@pytest.mark.parametrize("bad", ["", "a b", "a\n\napi evil", "x\ty"])
def test_given_injected_uuid_when_built_then_value_error(bad):
    with pytest.raises(ValueError):
        commands.uuid_kill(bad)


def test_given_execute_when_built_then_it_is_the_recorded_sendmsg_plus_our_event_uuid():
    assert commands.sendmsg_execute("answer", event_lock=True) == (
        "sendmsg\ncall-command: execute\nexecute-app-name: answer\nevent-lock: true")
    text = commands.sendmsg_execute("playback", "tone_stream://%(300,100,440);loops=2", event_uuid="e1", loops=2)
    assert text == ("sendmsg\ncall-command: execute\nexecute-app-name: playback\n"
                    "execute-app-arg: tone_stream://%(300,100,440);loops=2\nloops: 2\nEvent-UUID: e1")
    assert commands.sendmsg_execute("park", uuid="u1").startswith("sendmsg u1\n")


def test_given_argument_with_newline_when_execute_built_then_value_error():
    with pytest.raises(ValueError):
        commands.sendmsg_execute("playback", "a\n\napi shutdown")


def test_given_hangup_when_built_then_it_is_the_recorded_sendmsg():
    assert commands.sendmsg_hangup("NORMAL_CLEARING") == (
        "sendmsg\ncall-command: hangup\nhangup-cause: NORMAL_CLEARING")
