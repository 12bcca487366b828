"""The one small interface through which web and tasks ask an engine to act.

The engine serves it as JSON over HTTP on a loopback port (:class:`ControlServer`, over a
:class:`ControlBackend`); the web app and tasks use :class:`ControlClient`. Commands are typed
(:mod:`fs_cc.control.commands`); what happens is told by the domain events the engine streams at
``/events``. Neither side talks ESL to the other.
"""

from fs_cc.control.client import ControlClient, ControlRefused, ControlUnavailable
from fs_cc.control.commands import (Command, CommandRefused, ControlBackend, SuperviseMode,
                                    UnknownTarget)
from fs_cc.control.server import ControlApp, ControlServer

__all__ = ["Command", "CommandRefused", "ControlApp", "ControlBackend", "ControlClient",
           "ControlRefused", "ControlServer", "ControlUnavailable", "SuperviseMode",
           "UnknownTarget"]
