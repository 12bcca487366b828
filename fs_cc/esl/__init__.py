"""FreeSWITCH Event Socket: wire parser, command builders, inbound client, outbound server."""

from fs_cc.esl.errors import (AuthenticationError, CallerHungUp, CommandError, ConnectionLost, ESLError,
                              ESLTimeout, NotConnectedError, ProtocolError)
from fs_cc.esl.inbound import InboundClient
from fs_cc.esl.outbound import CallSession, OutboundServer
from fs_cc.esl.protocol import Event, Message, Parser, parse_event

__all__ = ["AuthenticationError", "CallSession", "CallerHungUp", "CommandError", "ConnectionLost", "ESLError",
           "ESLTimeout", "Event", "InboundClient", "Message", "NotConnectedError", "OutboundServer", "Parser",
           "ProtocolError", "parse_event"]
