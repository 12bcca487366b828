"""The abandon rate over live answers in a rolling period."""

from fs_cc.dialer.abandon import DAY, FCC_US, OFCOM_UK, AbandonPolicy, AbandonWindow


def test_given_no_answer_yet_then_rate_is_zero_and_not_over_limit():
    window = AbandonWindow()

    assert window.rate(0.0) == 0.0
    assert not window.over_limit(0.0)


def test_given_drops_among_answers_then_rate_is_drops_over_live_answers():
    window = AbandonWindow()
    for t in range(96):
        window.record(float(t), abandoned=False)
    for t in range(96, 100):
        window.record(float(t), abandoned=True)

    assert window.counts(100.0) == (100, 4)
    assert window.rate(100.0) == 0.04
    assert window.over_limit(100.0)


def test_given_answers_older_than_the_period_then_they_no_longer_count():
    window = AbandonWindow(AbandonPolicy(period=3600.0))
    window.record(0.0, abandoned=True)
    window.record(1800.0, abandoned=False)

    assert window.counts(3000.0) == (2, 1)
    assert window.counts(3600.5) == (1, 0)
    assert window.rate(3600.5) == 0.0


def test_given_the_shipped_policies_then_their_limits_and_periods_are_the_regulators():
    assert (FCC_US.limit, FCC_US.period) == (0.03, 30 * DAY)
    assert (OFCOM_UK.limit, OFCOM_UK.period) == (0.03, DAY)
