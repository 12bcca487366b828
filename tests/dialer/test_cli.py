"""`fs-cc simulate dialer` prints the pacers' figures."""

from fs_cc.cli import main


def test_given_a_small_team_when_simulated_then_every_pacer_and_the_ceiling_are_printed(capsys):
    status = main(["simulate", "dialer", "--agents", "5", "--hours", "0.25", "--talk", "120",
                   "--wrap", "15", "--seed", "1"])

    out = capsys.readouterr().out
    assert status == 0
    assert "ceiling (talk / (talk + wrap) x 60): 53.3" in out
    for pacer in ("preview", "progressive", "ViciDial ADAPT_HARD_LIMIT", "ViciDial ADAPT_AVERAGE",
                  "ViciDial ADAPT_TAPERED", "ours"):
        assert f"\n{pacer} " in out
