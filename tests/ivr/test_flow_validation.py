"""The flow checker: every mistake is reported with file, line and a plain explanation."""

import os
import textwrap

import pytest

from fs_cc.errors import ConfigError
from fs_cc.ivr import MenuNode, PlayNode, QueueNode, load_flow, parse_flow, validate_file

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

GOOD = """\
start: welcome
nodes:
  welcome:
    type: play
    prompt: ivr/ivr-welcome_to_freeswitch.wav
    next: menu
  menu:
    type: menu
    prompt: ivr/ivr-please_choose_from_the_following.wav
    options:
      1: sales
      2: support
    default: support
  sales:
    type: queue
    queue: sales
  support:
    type: queue
    queue: support
"""


def write(tmp_path, text, name="flow.yaml"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return str(path)


def error_of(tmp_path, text):
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_flow(path)
    return path, caught.value


def test_given_shipped_main_flow_when_validated_then_no_error_and_no_warning():
    path = os.path.join(REPO, "ivr_flows", "main.yaml")
    assert validate_file(path) == []
    flow = load_flow(path, queues={"sales", "support"})
    menu = flow.node("menu")
    assert flow.start == "welcome"
    assert menu.options == {"1": "sales", "2": "support"}
    assert menu.default == "support"
    assert flow.queues() == ["sales", "support"]


def test_given_good_flow_when_loaded_then_nodes_are_typed_with_defaults(tmp_path):
    flow = load_flow(write(tmp_path, GOOD))
    assert flow.name == "flow"
    assert isinstance(flow.node("welcome"), PlayNode)
    assert isinstance(flow.node("sales"), QueueNode)
    menu = flow.node("menu")
    assert isinstance(menu, MenuNode)
    assert (menu.timeout, menu.max_attempts) == (5.0, 3)
    assert menu.invalid_prompts == ("ivr/ivr-that_was_an_invalid_entry.wav",)
    assert menu.line == 7


def test_given_option_to_unknown_node_when_loaded_then_error_names_file_line_option_and_node(
        tmp_path):
    path, error = error_of(tmp_path, GOOD.replace("2: support", "2: salez"))
    assert str(error) == f"{path}:12: node 'menu' option '2' goes to unknown node 'salez'"
    assert (error.path, error.line) == (path, 12)


def test_given_next_to_unknown_node_when_loaded_then_error_at_that_line(tmp_path):
    path, error = error_of(tmp_path, GOOD.replace("next: menu", "next: menuu"))
    assert str(error) == f"{path}:6: node 'welcome' next goes to unknown node 'menuu'"


def test_given_unknown_node_type_when_loaded_then_error_lists_known_types(tmp_path):
    path, error = error_of(tmp_path, GOOD.replace("type: queue\n    queue: sales",
                                                  "type: qeue\n    queue: sales"))
    assert error.line == 15
    assert "node 'sales' has unknown node type 'qeue'" in str(error)
    from fs_cc.ivr import NODE_TYPES
    assert f"(known: {', '.join(sorted(NODE_TYPES))})" in str(error)
    assert {"callback", "collect", "condition", "goto", "hangup", "menu", "play", "queue",
            "say", "set", "lookup", "transfer", "subflow"} <= set(NODE_TYPES)


def test_given_node_without_type_when_loaded_then_error_at_node_line(tmp_path):
    path, error = error_of(tmp_path, GOOD.replace("    type: play\n", ""))
    assert error.line == 3
    assert "node 'welcome' is missing required field 'type'" in str(error)


def test_given_missing_required_field_when_loaded_then_error_names_field(tmp_path):
    path, error = error_of(tmp_path, GOOD.replace("    queue: support\n", ""))
    assert str(error) == f"{path}:17: node 'support' (queue): missing required field 'queue'"


@pytest.mark.parametrize("key, why", [
    ("12", "bad digit 12: an option is one key, 0-9 or *"),
    ("a", "bad digit 'a': an option is one key, 0-9 or *"),
    ("'#'", "bad digit '#': '#' ends the input"),
])
def test_given_bad_digit_when_loaded_then_error_at_option_line(tmp_path, key, why):
    path, error = error_of(tmp_path, GOOD.replace("2: support", f"{key}: support"))
    assert error.line == 12
    assert why in str(error)


def test_given_typo_in_field_name_when_loaded_then_unknown_field_error(tmp_path):
    path, error = error_of(tmp_path, GOOD.replace("    default: support", "    defualt: support"))
    assert error.line == 13
    assert "node 'menu' (menu): " in str(error)
    assert "missing required field 'default' (is 'defualt' a typo?)" in str(error)


def test_given_extra_field_when_loaded_then_unknown_field_error(tmp_path):
    path, error = error_of(tmp_path, GOOD.replace("    queue: sales\n",
                                                  "    queue: sales\n    colour: red\n"))
    assert error.line == 17
    assert "unknown field 'colour'" in str(error)
    assert "exit_key" in str(error)  # the message lists the queue node's fields


def test_given_queue_node_options_when_loaded_then_parsed(tmp_path):
    flow = load_flow(write(tmp_path, GOOD.replace("    queue: sales\n", """\
    queue: sales
    priority: 5
    skills: {french: 3}
    max_wait: 90
    exit_key: "0"
    outcomes: {timeout: menu, exit_key: menu}
""")))
    node = flow.node("sales")
    assert (node.priority, dict(node.skills), node.max_wait, node.exit_key) == (
        5, {"french": 3}, 90.0, "0")
    assert dict(node.on) == {"timeout": "menu", "exit_key": "menu"}


@pytest.mark.parametrize("extra, line, message", [
    ("    outcomes: {busy: menu}\n", 17, "unknown outcome 'busy'"),
    ("    outcomes: {timeout: menu}\n", 17, "'outcomes: timeout' needs a 'max_wait'"),
    ("    exit_key: '12'\n", 17, "'exit_key' must be one key"),
    ("    skills: {french: 11}\n", 17, "'skills' must map skill names to minimum levels 1-10"),
    ("    max_wait: 30\n    outcomes: {timeout: nowhere}\n", 18, "goes to unknown node 'nowhere'"),
])
def test_given_bad_queue_node_options_when_loaded_then_error_with_line(tmp_path, extra, line,
                                                                         message):
    path, error = error_of(tmp_path, GOOD.replace("    queue: sales\n", "    queue: sales\n" + extra))
    assert message in str(error)
    assert error.line == line


def test_given_bad_timeout_when_loaded_then_error_explains(tmp_path):
    path, error = error_of(tmp_path, GOOD.replace("    default: support",
                                                  "    default: support\n    timeout: -1"))
    assert error.line == 14
    assert "'timeout' must be a number above 0, not -1" in str(error)


def test_given_zero_attempts_when_loaded_then_error(tmp_path):
    path, error = error_of(tmp_path, GOOD.replace("    default: support",
                                                  "    default: support\n    max_attempts: 0"))
    assert error.line == 14
    assert "'max_attempts' must be a whole number of at least 1" in str(error)


def test_given_sound_with_space_when_loaded_then_error(tmp_path):
    path, error = error_of(tmp_path, GOOD.replace("ivr/ivr-welcome_to_freeswitch.wav",
                                                  "'my file.wav'"))
    assert error.line == 5
    assert "contains a space" in str(error)


def test_given_unknown_start_when_loaded_then_error_at_start_line(tmp_path):
    path, error = error_of(tmp_path, GOOD.replace("start: welcome", "start: hello"))
    assert str(error) == f"{path}:1: start node 'hello' is not defined"


def test_given_missing_start_when_loaded_then_error(tmp_path):
    path, error = error_of(tmp_path, GOOD.replace("start: welcome\n", ""))
    assert "missing required field 'start'" in str(error)


def test_given_unknown_top_level_field_when_loaded_then_error(tmp_path):
    path, error = error_of(tmp_path, "version: 2\n" + GOOD)
    assert str(error).startswith(f"{path}:1: unknown top-level field 'version'")


def test_given_duplicate_node_id_when_loaded_then_error_names_both_lines(tmp_path):
    path, error = error_of(tmp_path, GOOD + "  sales:\n    type: hangup\n")
    assert error.line == 20
    assert "duplicate key 'sales' (first given on line 15)" in str(error)


def test_given_broken_yaml_when_loaded_then_error_with_line(tmp_path):
    path, error = error_of(tmp_path, GOOD.replace("    next: menu", "    next: [menu"))
    assert error.path == path
    assert error.line is not None and error.line >= 6
    assert "not valid YAML" in str(error)


def test_given_loop_without_exit_when_loaded_then_error_shows_the_loop(tmp_path):
    text = """\
    start: a
    nodes:
      a:
        type: play
        prompt: tone_stream://%(100,0,440)
        next: b
      b: {type: goto, to: a}
    """
    path, error = error_of(tmp_path, text)
    assert str(error) == (f"{path}:3: node 'a' is in a loop without an exit (a -> b -> a): "
                          f"no path from it reaches a queue or a hangup")


def test_given_menu_loop_with_an_exit_when_loaded_then_accepted(tmp_path):
    text = """\
    start: menu
    nodes:
      menu:
        type: menu
        prompt: ivr/ivr-please_choose_from_the_following.wav
        options: {9: again, 1: bye}
        default: menu
      again: {type: goto, to: menu}
      bye: {type: hangup}
    """
    flow = load_flow(write(tmp_path, text))
    assert flow.node("bye").cause == "NORMAL_CLEARING"


def test_given_unreachable_node_when_validated_then_warning_with_line(tmp_path):
    path = write(tmp_path, GOOD + "  orphan:\n    type: hangup\n    cause: CALL_REJECTED\n")
    assert validate_file(path) == [
        f"{path}:20: node 'orphan' can never be reached from the start node 'welcome'"]


def test_given_unknown_queue_when_queues_known_then_error_at_queue_line(tmp_path):
    path = write(tmp_path, GOOD)
    with pytest.raises(ConfigError) as caught:
        load_flow(path, queues={"sales"})
    assert str(caught.value).startswith(
        f"{path}:19: node 'support' sends callers to unknown queue 'support'")


def test_given_bad_hangup_cause_when_loaded_then_error(tmp_path):
    path, error = error_of(tmp_path, GOOD.replace("type: queue\n    queue: sales",
                                                  "type: hangup\n    cause: busy"))
    assert error.line == 16
    assert "'busy' is not a hangup cause" in str(error)


def test_given_set_node_with_bad_variable_when_loaded_then_error(tmp_path):
    text = GOOD.replace("next: menu", "next: tag") + (
        "  tag:\n    type: set\n    variable: 'my var'\n    value: 1\n    next: menu\n")
    path, error = error_of(tmp_path, text)
    assert error.line == 22
    assert "'my var' is not a channel variable name" in str(error)


def test_given_node_id_with_colon_when_loaded_then_error(tmp_path):
    path, error = error_of(tmp_path, GOOD.replace("  sales:", "  'sales:vip':").replace(
        "1: sales", "1: 'sales:vip'"))
    assert error.line == 14
    assert "node id 'sales:vip' may hold only" in str(error)


def test_given_missing_file_when_validated_then_config_error_names_it(tmp_path):
    path = str(tmp_path / "nope.yaml")
    with pytest.raises(ConfigError) as caught:
        validate_file(path)
    assert caught.value.path == path


def test_given_text_without_file_when_parsed_then_source_is_named(tmp_path):
    with pytest.raises(ConfigError) as caught:
        parse_flow("start: x\nnodes: {}\n", "inline.yaml")
    assert str(caught.value) == "inline.yaml:2: 'nodes' must map node ids to nodes"


def test_given_an_impossible_date_unquoted_when_loaded_then_error_at_its_line(tmp_path):
    path, error = error_of(tmp_path, GOOD + "# closed on\nholidays: 2026-13-01\n")
    assert error.line == GOOD.count("\n") + 2
    assert "'2026-13-01' is not a real date or time" in str(error)
