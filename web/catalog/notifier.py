"""Tells the engine that the catalog changed, so it reloads without a restart."""

import logging

from fs_cc.control import ControlRefused, ControlUnavailable

logger = logging.getLogger(__name__)


class EngineNotifier:
    """A catalog service's ``notify``: asks the engine (a ControlClient) to reload the catalog.

    The change is committed before this runs and an engine loads the catalog when it starts,
    so an engine that does not answer is only worth a warning.
    """

    def __init__(self, control):
        self.control = control

    def __call__(self, version):
        try:
            self.control.reload_catalog()
        except ControlUnavailable as exc:
            logger.warning("catalog version %s saved; the engine was not told (unavailable at"
                           " %s: %s); it loads the catalog when it starts",
                           version, exc.url, exc.reason)
        except ControlRefused as exc:
            logger.warning("catalog version %s saved; the engine refused to reload it (%s): %s",
                           version, exc.status, exc.error)
        else:
            logger.info("engine told to reload catalog version %s", version)
