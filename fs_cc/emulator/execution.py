"""Running applications on a session: switch_core_session_exec, switch_ivr_parse_event, switch_ivr_park.

The applications are registered in APPS by apps.py; this module knows none of them, so one that
parks the channel itself (outbound.py's socket) imports park_loop from here and apps.py imports
it back, both at module level, without a circle.
"""

import logging
import uuid as uuidlib

from fs_cc.emulator.channel import WakeReason

logger = logging.getLogger(__name__)

RESPONSE_VAR = "current_application_response"  # SWITCH_CURRENT_APPLICATION_RESPONSE_VARIABLE
APPS = {}  # application name -> function(channel, arg) returning its response; apps.py fills it


def execute(channel, app, arg="", app_uuid=None):
    """Run one application on the channel's session greenlet; returns its response."""
    app_uuid = app_uuid or str(uuidlib.uuid4())
    if arg:
        channel.set_var("current_application_data", arg)
    channel.set_var("current_application", app)
    channel.set_var(RESPONSE_VAR, None)
    channel.application, channel.application_data = app, arg
    data = [("Application", app)] + ([("Application-Data", arg)] if arg else [])
    channel.fire("CHANNEL_EXECUTE", post=data + [("Application-UUID", app_uuid)])
    func = APPS.get(app)
    if func is None:
        logger.warning("%s: application %s is not emulated; treated as a no-op", channel.uuid, app)
        response = None
    else:
        response = func(channel, arg)
    if response and response != "_none_":
        channel.set_var(RESPONSE_VAR, response)
    # switch_core_session_exec reads the variable back: an application that sets none (park)
    # reports what the last application run inside it (a sendmsg playback) left there
    response = channel.variables.get(RESPONSE_VAR) or "_none_"
    channel.last_response = response
    channel.fire("CHANNEL_EXECUTE_COMPLETE",
                 post=data + [("Application-Response", response), ("Application-UUID", app_uuid)])
    return response


def run_queued(channel):
    """Execute the applications queued by sendmsg, in order (switch_ivr_parse_event)."""
    while channel.app_queue and not channel.hungup and not channel.taken_over:
        app, arg, app_uuid, loops, lock, hold_bleg = channel.app_queue.pop(0)
        outer_lock, channel.event_lock = channel.event_lock, lock
        outer_broadcast, channel.broadcasting, channel.broadcast_stopped = channel.broadcasting, True, False
        held = channel.switch.hold_partner(channel) if hold_bleg else None
        try:
            count = 0
            while loops < 0 or count < max(1, loops):
                if channel.hungup or channel.broadcast_stopped or channel.taken_over:
                    break
                execute(channel, app, arg, app_uuid)
                count += 1
        finally:
            channel.event_lock = outer_lock
            channel.broadcasting, channel.broadcast_stopped = outer_broadcast, False
            if held is not None:
                held.stop_broadcast()


def park_loop(channel, fire_events=True, until=None):
    """switch_ivr_park: run queued applications until hangup or another job takes over.

    ``until()`` true ends it too (the socket application's park once its socket is gone:
    the listener clears CF_CONTROLLED, mod_event_socket.c).
    """
    if fire_events:
        channel.fire("CHANNEL_PARK")
    while until is None or not until():
        reason = channel.wait(queue=True)
        if reason == WakeReason.QUEUE:
            run_queued(channel)
            continue
        if reason in (WakeReason.HANGUP, WakeReason.TAKEOVER):
            break
    if fire_events:
        channel.fire("CHANNEL_UNPARK")
