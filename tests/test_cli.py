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


def test_given_unknown_option_when_run_then_usage_error(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["engine", "--no-such-option"])
    assert exc.value.code == 2
    assert "unrecognized arguments: --no-such-option" in capsys.readouterr().err
