"""The `fs-cc` command line."""

import pathlib

import pytest

from fs_cc.cli import main

REPO = pathlib.Path(__file__).resolve().parent.parent


def test_given_shipped_main_flow_when_validated_then_ok(capsys):
    assert main(["ivr", "validate", str(REPO / "ivr_flows" / "main.yaml")]) == 0
    assert capsys.readouterr().out.strip().endswith(": ok")


def test_given_flow_with_unknown_target_when_validated_then_error_names_file_and_line(tmp_path,
                                                                                      capsys):
    flow = tmp_path / "bad.yaml"
    good = (REPO / "ivr_flows" / "main.yaml").read_text()
    flow.write_text(good.replace("queue: sales", "queue: sales\n    bogus_field: 1", 1))
    assert main(["ivr", "validate", str(flow)]) == 1
    err = capsys.readouterr().err
    assert f"{flow}:" in err and "bogus_field" in err


def test_given_flow_playing_a_sound_the_switch_lacks_when_validated_then_error_names_it(tmp_path,
                                                                                       capsys):
    (tmp_path / "sounds").mkdir()

    assert main(["ivr", "validate", "--sounds-dir", str(tmp_path / "sounds"),
                 str(REPO / "ivr_flows" / "main.yaml")]) == 1

    err = capsys.readouterr().err
    assert "main.yaml:" in err and "ivr/ivr-welcome_to_freeswitch.wav" in err


def test_given_unknown_option_when_run_then_usage_error(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["engine", "--no-such-option"])
    assert exc.value.code == 2
    assert "unrecognized arguments: --no-such-option" in capsys.readouterr().err


@pytest.mark.parametrize("argv", [
    ["up", "--config", "{file}"],
    ["--config", "{file}", "up"],
    ["engine", "--config", "{file}"],
    ["web", "--config", "{file}"],
    ["db", "upgrade", "--config", "{file}"],
])
def test_given_config_before_or_after_the_subcommand_when_run_then_that_file_is_read(
        tmp_path, capsys, monkeypatch, argv):
    monkeypatch.setenv("FS_CC_CONFIG", "")  # restored afterwards: main() exports --config
    monkeypatch.chdir(tmp_path)  # no ./fs_cc.yaml, no ./var of the checkout
    config = tmp_path / "site.yaml"
    config.write_text("web_port: 5001\nno_such_setting: 1\n")

    status = main([token.format(file=config) for token in argv])

    assert status == 2  # the file was read: its unknown setting is refused, naming the file
    err = capsys.readouterr().err
    assert str(config) in err and "no_such_setting" in err


def test_given_config_on_both_sides_then_the_one_after_the_subcommand_wins():
    from fs_cc.cli import build_parser

    args, _ = build_parser().parse_known_args(["--config", "a.yaml", "up", "--config", "b.yaml",
                                               "--log-level", "DEBUG"])
    plain, _ = build_parser().parse_known_args(["--config", "a.yaml", "up"])

    assert (args.config, args.log_level) == ("b.yaml", "DEBUG")
    assert (plain.config, plain.log_level) == ("a.yaml", "INFO")


def test_given_the_emulator_then_its_own_config_option_reaches_it(monkeypatch):
    import fs_cc.emulator

    seen = []
    monkeypatch.setattr(fs_cc.emulator, "main", lambda argv: seen.append(argv) or 0)
    monkeypatch.setattr("gevent.monkey.patch_all", lambda: None)
    monkeypatch.setattr("psycogreen.gevent.patch_psycopg", lambda: None)

    assert main(["emulator", "--config", "emulator.yaml", "--port", "0"]) == 0
    assert seen == [["--config", "emulator.yaml", "--port", "0"]]


def test_given_up_help_then_every_port_setting_is_listed_with_its_default(capsys):
    from fs_cc.config import _ENV, Settings

    with pytest.raises(SystemExit) as exc:
        main(["up", "--help"])
    out = capsys.readouterr().out

    assert exc.value.code == 0
    # the ports fs_cc listens on (FS_CC_SMTP_PORT is the mail server's, which it connects to)
    ports = [key for key in _ENV if key.endswith("_PORT") and key != "FS_CC_SMTP_PORT"]
    assert len(ports) == 4
    for key in ports:
        default = getattr(Settings(var_dir=None, database_url="", broker_url="", redis_url=None,
                                   secret_key=""), _ENV[key])
        line = next(line for line in out.splitlines() if line.split()[:1] == [key])
        assert str(default) in line.split()
