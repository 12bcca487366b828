"""`api` commands: status, show, uuid_*, originate and the emulator's own fs_cc_flood."""

import logging
import os
import re
import time

from fs_cc.emulator.channel import CallState, ChannelState
from fs_cc.emulator.dialplan import ENGINE_SOCKET_VAR
from fs_cc.emulator.events import channel_data
from fs_cc.emulator.expansion import expand_headers, header_lookup
from fs_cc.emulator.originate import OriginateError, dial
from fs_cc.emulator.directory import locate_user
from fs_cc.emulator.recording import api_uuid_record
from fs_cc.emulator.session_audio import api_uuid_audio, api_uuid_buglist
from fs_cc.emulator.show import show

logger = logging.getLogger(__name__)

TRANSFER_SYNTAX = "<uuid> [-bleg|-both] <dest-exten> [<dialplan>] [<context>]"
GLOBAL_SETVAR_SYNTAX = "<var>=<value> [=<value2>]"
HOLD_SYNTAX = "[off|toggle] <uuid> [<display>]"


def separate(text):
    """switch_separate_string on spaces: single quotes group words and are removed."""
    return [p.replace("'", "") for p in re.findall(r"(?:[^\s']|'[^']*')+", text)]


class ParamEvent:
    """A stream's param_event: the API event's headers, gathered until it fires (once)."""

    def __init__(self):
        self.headers = []
        self.fired = False


def takes_param(handler):
    """Mark an api_* method that is given the ParamEvent as well (expand_function)."""
    handler.takes_param = True
    return handler


class Api:
    """Executes api commands against the switch; every call fires an API event afterwards."""

    def __init__(self, switch):
        self.switch = switch
        self.started = time.time()

    def execute(self, command, args, param=None):
        """Run one command and return its response text (switch_api_execute).

        ``param`` is the stream's param event of an outer command (expand): the command's
        API-Command headers are added to it and it fires once, here, as FreeSWITCH does.
        """
        param = ParamEvent() if param is None else param
        param.headers.append(("API-Command", command))
        if args:
            param.headers.append(("API-Command-Argument", args))
        handler = getattr(self, "api_" + command, None)
        if handler is None:
            result = "-ERR %s Command not found!\n" % command
        else:
            try:
                result = handler(args, param) if getattr(handler, "takes_param", False) else handler(args)
            except (ValueError, IndexError) as exc:
                result = "-ERR %s\n" % exc
        if not param.fired:
            param.fired = True
            self.switch.fire(self.switch.factory.simple("API", param.headers))
        return result

    def background(self, job_uuid, command, args):
        """bgapi: run and fire BACKGROUND_JOB with the result as body."""
        result = self.execute(command, args)
        extra = [("Job-UUID", job_uuid), ("Job-Command", command)]
        if args:
            extra.append(("Job-Command-Arg", args))
        self.switch.fire(self.switch.factory.simple("BACKGROUND_JOB", extra, body=result))

    def _channel(self, uuid):
        return self.switch.channels.get(uuid.strip())

    # -- system ----------------------------------------------------------------------------
    def api_status(self, _args):
        """status."""
        up = time.time() - self.started
        days, rem = divmod(int(up), 86400)
        hours, rem = divmod(rem, 3600)
        minutes, seconds = divmod(rem, 60)
        ms = int((up - int(up)) * 1000)
        count = len(self.switch.channels)
        return ("UP 0 years, %d days, %d hours, %d minutes, %d seconds, %d milliseconds, 0 microseconds\n"
                "FreeSWITCH (Version 1.10.12-release fs_cc-emulator 64bit) is ready\n"
                "%d session(s) since startup\n"
                "%d session(s) - peak %d, last 5min %d \n"
                "0 session(s) per Sec out of max 30, peak 1, last 5min 1 \n"
                "1000 session(s) max\nmin idle cpu 0.00/100.00\nCurrent Stack Size/Max 240K/8192K\n"
                % (days, hours, minutes, seconds, ms, self.switch.sessions_since_startup, count,
                   self.switch.peak_sessions, count))

    def api_version(self, _args):
        """version."""
        return "FreeSWITCH Version 1.10.12-release (fs_cc emulator)\n"

    def api_global_getvar(self, args):
        """global_getvar [name]: the value ("" when unset), or every `name=value` line without a name."""
        name = args.strip()
        if not name:
            names = list(self.switch.global_vars)
            if ENGINE_SOCKET_VAR not in names:
                names.append(ENGINE_SOCKET_VAR)
            return "".join("%s=%s\n" % (n, self.switch.global_var(n)) for n in names)
        return self.switch.global_var(name, "")

    def api_global_setvar(self, args):
        """global_setvar name=value[=expected]: `+OK`; with expected, only set while it holds that value.

        As global_setvar_function in mod_commands.c: the argument splits on `=` into at most three
        parts, an empty value unsets, and the reply is `+OK` without a newline either way.
        """
        parts = args.strip().split("=", 2)
        name = parts[0].strip() if parts else ""
        if not name:
            return "-USAGE: %s\n" % GLOBAL_SETVAR_SYNTAX
        value = parts[1] if len(parts) > 1 else ""
        expected = parts[2] if len(parts) > 2 else ""
        if expected:
            # switch_core_set_var_conditional: only when the current value is the expected one
            if self.switch.global_vars.get(name) == expected:
                self.switch.set_global_var(name, value)
        else:
            self.switch.set_global_var(name, value)
        return "+OK"

    def api_file_exists(self, args):
        """file_exists <path>: `true` or `false`, without a newline (file_exists_function)."""
        path = args.strip()
        return "true" if path and os.path.exists(path) else "false"

    # -- expansion -------------------------------------------------------------------------
    def _expand(self, text, headers):
        """switch_event_expand_headers over ``headers``, with the globals and api functions."""
        def call_api(command, args):
            known = hasattr(self, "api_" + command.strip())
            result = self.execute(command.strip(), args.strip())  # its own API event
            return result if known else None
        return expand_headers(text, header_lookup(headers), self.switch.global_var, call_api)

    @staticmethod
    def _uuid_prefix(args):
        """`uuid:<uuid> rest`: (uuid, rest); rest None without a space; ("", args) without uuid:."""
        if not args[:5].lower() == "uuid:":
            return "", args
        uuid, space, rest = args[5:].partition(" ")
        return (uuid, rest) if space else ("", None)

    def api_eval(self, args):
        """eval [uuid:<uuid> ]<text>: the text expanded over a CHANNEL_DATA event (eval_function).

        The event holds the channel's headers and `variable_*` (so `${Channel-Name}` and
        `${variable_channel_name}` are found, `${channel_name}` only as a global), then globals.
        """
        if not args:
            return ""
        uuid, text = self._uuid_prefix(args)
        if not text:
            return ""
        factory = self.switch.factory
        headers = factory.core("CHANNEL_DATA", sequence=False)
        channel = self.switch.channels.get(uuid) if uuid else None
        if channel is not None:
            headers += channel_data(channel, "CHANNEL_DATA")
        return self._expand(text, headers)

    @takes_param
    def api_expand(self, args, param):
        """expand [uuid:<uuid> ]<command> <args>: run the command on its expanded args (expand_function).

        The args are expanded over the API event (with the channel's data under uuid:), which the
        inner command then fires: one API event with both commands' API-Command headers.
        """
        if not args:
            return "-ERR No input\n"
        uuid, rest = self._uuid_prefix(args)
        if not rest:
            return "-ERR No input\n"
        channel = self.switch.channels.get(uuid) if uuid else None
        if channel is not None:
            param.headers += channel_data(channel, "API")
        command, space, arg = rest.partition(" ")
        expanded = self._expand(arg, self.switch.factory.core("API", sequence=False) + param.headers) \
            if space else ""
        command, expanded = command.strip(), expanded.strip()
        if not hasattr(self, "api_" + command):
            self.execute(command, expanded, param)
            return "INVALID COMMAND!\n-ERR Cannot execute command\n"
        return self.execute(command, expanded, param)

    def api_echo(self, args):
        """echo <text>: the text as given (echo_function)."""
        return args

    def api_user_exists(self, args):
        """user_exists <key> <user> <domain>: `true` or `false` (_find_user in mod_commands.c)."""
        parts = args.split()
        if len(parts) < 3:
            return "false"
        key, user, domain = parts[:3]
        found = key == "id" and locate_user(self.switch, user, domain) is not None
        return "true" if found else "false"

    def api_reloadxml(self, _args):
        """reloadxml."""
        return "+OK [Success]\n"

    def api_show(self, args):
        """show channels|calls [as json]."""
        return show(self.switch, args)

    # -- channels --------------------------------------------------------------------------
    def api_uuid_exists(self, args):
        """uuid_exists <uuid>."""
        return "true" if self._channel(args) else "false"

    def api_uuid_kill(self, args):
        """uuid_kill <uuid> [cause]."""
        parts = args.split()
        channel = self._channel(parts[0]) if parts else None
        if channel is None:
            return "-ERR No such channel!\n"
        channel.hangup(parts[1] if len(parts) > 1 else "NORMAL_CLEARING")
        return "+OK\n"

    def api_uuid_getvar(self, args):
        """uuid_getvar <uuid> <var>."""
        parts = args.split()
        channel = self._channel(parts[0]) if parts else None
        if channel is None:
            return "-ERR No such channel!\n"
        return channel.get_var(parts[1], "_undef_") if len(parts) > 1 else "-ERR Usage\n"

    def api_uuid_setvar(self, args):
        """uuid_setvar <uuid> <var> [value]."""
        parts = args.split(" ", 2)
        channel = self._channel(parts[0]) if parts else None
        if channel is None:
            return "-ERR No such channel!\n"
        channel.set_var(parts[1], parts[2] if len(parts) > 2 else None)
        return "+OK\n"

    def api_uuid_send_dtmf(self, args):
        """uuid_send_dtmf <uuid> <digits>: heard by the other loopback leg or the bridged party."""
        parts = args.split()
        if len(parts) < 2:
            return "-USAGE: <uuid> <dtmf_data>\n"
        channel = self._channel(parts[0])
        if channel is None:
            return "-ERR Cannot locate session!\n"
        target = channel.loopback_partner or self.switch.channels.get(channel.bridged_to or "")
        if target is not None:
            target.receive_dtmf("".join(d for d in parts[1] if d in "0123456789*#ABCD"))
        return "+OK %s sent DTMF %s.\n" % (channel.uuid, parts[1])  # as recorded (05_outbound_socket_ivr)

    def api_uuid_bridge(self, args):
        """uuid_bridge <a> <b>."""
        parts = args.split()
        if len(parts) < 2:
            return "-ERR Invalid uuid\n"
        a_leg, b_leg = self._channel(parts[0]), self._channel(parts[1])
        if a_leg is None or b_leg is None or a_leg.hungup or b_leg.hungup:
            return "-ERR Invalid uuid\n"
        self.switch.uuid_bridge(a_leg, b_leg)
        return "+OK %s\n" % b_leg.uuid

    def api_uuid_transfer(self, args):
        """uuid_transfer <uuid> [-bleg|-both] <dest> [dialplan] [context] (transfer_function).

        -bleg transfers the bridged partner, or the channel itself when it has none; -both the
        partner, then the channel (12_uuid_transfer_bleg, 13_uuid_transfer_both).
        """
        parts = separate(args)
        if len(parts) < 2 or len(parts) > 5:
            return "-USAGE: %s\n" % TRANSFER_SYNTAX
        channel = self._channel(parts[0])
        if channel is None:
            return "-ERR No such channel!\n"
        leg = parts[1].lower() if parts[1].startswith("-") else None
        rest = parts[2:] if leg else parts[1:]
        if not rest:
            return "-USAGE: %s\n" % TRANSFER_SYNTAX
        dialplan = rest[1] if len(rest) > 1 else "XML"
        other = self.switch.channels.get(channel.bridged_to or "") if leg else None
        targets = [channel]
        if other is not None and leg == "-bleg":
            targets = [other]
        elif other is not None and leg == "-both":
            targets = [other, channel]
        for target in targets:
            context = rest[2] if len(rest) > 2 else target.profile.context
            self.switch.transfer(target, rest[0], context, dialplan)
        return "+OK\n"

    def api_uuid_broadcast(self, args):
        """uuid_broadcast <uuid> <path|app::args> [aleg|bleg|holdb|both] (uuid_broadcast_function).

        No leg means aleg with the partner on hold music meanwhile; `bleg` plays to the partner
        only; `+OK Message sent`, or `-ERR invalid uuid` (15_uuid_broadcast).
        """
        argv = args.split()
        if len(argv) < 2:
            return "-USAGE: <uuid> <path> [aleg|bleg|holdb|both]\n"
        aleg, bleg, hold_bleg = True, False, True
        if len(argv) > 2:
            legs = argv[2].lower()
            aleg = "aleg" in legs or "both" in legs
            bleg = ("bleg" in legs or "both" in legs) and "holdb" not in legs
            hold_bleg = "holdb" in legs
        channel = self._channel(argv[0])
        if channel is None:
            return "-ERR invalid uuid\n"
        self.switch.broadcast(channel, argv[1], aleg=aleg, bleg=bleg, hold_bleg=hold_bleg)
        return "+OK Message sent\n"

    def api_uuid_break(self, args):
        """uuid_break <uuid> [all]: `+OK`, playing or not (break_function in mod_commands.c)."""
        parts = args.split()
        if not parts:
            return "-USAGE: <uuid> [all]\n"
        channel = self._channel(parts[0])
        if channel is None:
            return "-ERR No such channel!\n"  # as recorded (20_playback_events)
        if "all" in parts[1:]:
            channel.app_queue.clear()
        if channel.broadcasting:  # a broadcast (hold music loops -1) stops, not just its file
            channel.stop_broadcast()
        else:
            channel.request_break()
        return "+OK\n"

    def api_uuid_record(self, args):
        """uuid_record <uuid> start|stop|mask|unmask <path> [limit]."""
        return api_uuid_record(self.switch, args)

    def api_uuid_audio(self, args):
        """uuid_audio <uuid> start read|write mute|level <level> | stop."""
        return api_uuid_audio(self.switch, args)

    def api_uuid_buglist(self, args):
        """uuid_buglist <uuid>: the channel's media bugs."""
        return api_uuid_buglist(self.switch, args)

    def api_uuid_hold(self, args):
        """uuid_hold [off|toggle] <uuid> (uuid_hold_function in mod_commands.c).

        A uuid no session has is a success (switch_ivr_hold_uuid finds nothing to fail on);
        `off` fails unless the call state is HELD, which uuid_hold never makes it (10_hold_unhold).
        """
        argv = args.split()
        if not argv:
            # the usage, and the status still failed
            return "-USAGE: %s\n-ERR Operation failed\n" % HOLD_SYNTAX
        mode = argv[0].lower()
        uuid = argv[1] if mode in ("off", "toggle") and len(argv) > 1 else None
        if mode not in ("off", "toggle"):
            uuid = argv[0]
        channel = self._channel(uuid) if uuid else None
        ok = True
        if channel is not None:
            if mode == "off":
                ok = self.switch.unhold(channel)
            elif mode == "toggle":
                if channel.call_state in (CallState.ACTIVE, CallState.UNHELD):
                    ok = self.switch.hold(channel)
                elif channel.call_state == CallState.HELD:
                    ok = self.switch.unhold(channel)
            else:
                ok = self.switch.hold(channel)
        return "+OK Success\n" if ok else "-ERR Operation failed\n"

    def api_hupall(self, args):
        """hupall [cause]."""
        for channel in list(self.switch.channels.values()):
            channel.hangup(args.split()[0] if args.split() else "MANAGER_REQUEST")
        return "+OK\n"

    def api_originate(self, args):
        """originate <dialstring> <&app(args)|exten> [dialplan] [context] [cid_name] [cid_num] [timeout]."""
        parts = args.split(" ")
        dialstring = parts[0]
        target = parts[1] if len(parts) > 1 else "&park()"
        extras = parts[2:]
        timeout = float(extras[4]) if len(extras) > 4 else 60
        variables = {}
        if len(extras) > 2:
            variables["origination_caller_id_name"] = extras[2]
        if len(extras) > 3:
            variables["origination_caller_id_number"] = extras[3]
        try:
            channel = dial(self.switch, dialstring, variables, default_timeout=timeout)
        except OriginateError as exc:
            return "-ERR %s\n" % exc.cause
        self.switch.start_originated(channel, target, extras[1] if len(extras) > 1 else "default")
        return "+OK %s\n" % channel.uuid

    def api_conference(self, args):
        """conference list | <name> list|kick|hup|mute|unmute <member>."""
        return self.switch.conferences.api(args)

    def api_fs_cc_press(self, args):
        """fs_cc_press <uuid> <digits>: the emulator's own; the far end of a leg presses keys."""
        parts = args.split()
        if len(parts) < 2 or not self.switch.press_dtmf(parts[0], parts[1]):
            return "-ERR No such channel!\n"
        return "+OK\n"

    def api_fs_cc_flood(self, args):
        """fs_cc_flood <n> [event-name]: fire n synthetic events for benchmarks."""
        parts = args.split()
        count = int(parts[0]) if parts else 1
        name = parts[1] if len(parts) > 1 else "CHANNEL_STATE"
        self.switch.flood(count, name)
        return "+OK %d\n" % count


__all__ = ["Api", "ChannelState"]
