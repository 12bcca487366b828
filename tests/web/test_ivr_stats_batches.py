"""The IVR statistics folded a few calls at a time give the numbers of one fold of every call."""

from tests.web.test_ivr_stats import app, stats_of  # noqa: F401 (the scripted calls' app)
from tests.web.support import migrated_databases  # noqa: F401
from web.ivr import stats


def test_given_batches_of_one_call_then_every_figure_is_the_one_of_a_single_batch(
        app, monkeypatch):  # noqa: F811
    whole, four = stats_of(app), stats_of(app, version="4")
    monkeypatch.setattr(stats, "CALLS_PER_BATCH", 1)

    assert stats_of(app) == whole and whole["calls"] == 5
    assert stats_of(app, version="4") == four and four["calls"] < 5
