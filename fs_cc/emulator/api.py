"""`api` commands: status, show, uuid_*, originate and the emulator's own fs_cc_flood."""

import logging
import os
import re
import time

from fs_cc.emulator.channel import ChannelState
from fs_cc.emulator.dialplan import ENGINE_SOCKET_VAR
from fs_cc.emulator.originate import OriginateError, dial
from fs_cc.emulator.recording import api_uuid_record
from fs_cc.emulator.show import show

logger = logging.getLogger(__name__)

TRANSFER_SYNTAX = "<uuid> [-bleg|-both] <dest-exten> [<dialplan>] [<context>]"
GLOBAL_SETVAR_SYNTAX = "<var>=<value> [=<value2>]"


def separate(text):
    """switch_separate_string on spaces: single quotes group words and are removed."""
    return [p.replace("'", "") for p in re.findall(r"(?:[^\s']|'[^']*')+", text)]


class Api:
    """Executes api commands against the switch; every call fires an API event afterwards."""

    def __init__(self, switch):
        self.switch = switch
        self.started = time.time()

    def execute(self, command, args):
        """Run one command and return its response text."""
        handler = getattr(self, "api_" + command, None)
        if handler is None:
            result = "-ERR %s Command not found!\n" % command
        else:
            try:
                result = handler(args)
            except (ValueError, IndexError) as exc:
                result = "-ERR %s\n" % exc
        extra = [("API-Command", command)]
        if args:
            extra.append(("API-Command-Argument", args))
        self.switch.fire(self.switch.factory.simple("API", extra))
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
        """uuid_transfer <uuid> [-bleg|-both] <dest> [dialplan] [context] (transfer_function)."""
        parts = separate(args)
        if len(parts) < 2:
            return "-USAGE: %s\n" % TRANSFER_SYNTAX
        channel = self._channel(parts[0])
        if channel is None:
            return "-ERR No such channel!\n"
        leg = parts[1].lower() if parts[1].lower() in ("-bleg", "-both") else None
        rest = parts[2:] if leg else parts[1:]
        if not rest:
            return "-USAGE: %s\n" % TRANSFER_SYNTAX
        dialplan = rest[1] if len(rest) > 1 else "XML"
        context = rest[2] if len(rest) > 2 else channel.profile.context
        targets = [channel] if leg is None else []
        if leg is not None:
            other = self.switch.channels.get(channel.bridged_to or "")
            if other is not None:
                targets.append(other)
            if leg == "-both":
                targets.append(channel)
        for target in targets:
            self.switch.transfer(target, rest[0], context, dialplan)
        return "+OK\n"

    def api_uuid_broadcast(self, args):
        """uuid_broadcast <uuid> <path|app::args> [aleg|bleg|both]: always `+OK Message Sent`."""
        parts = args.split()
        if len(parts) < 2:
            return "-USAGE: <uuid> <path> [aleg|bleg|holdb|both]\n"
        channel = self._channel(parts[0])
        if channel is not None:
            what = parts[1]
            if "::" in what:
                app, _, arg = what.partition("::")
                arg = arg.replace("!", " ")
            else:
                app, arg = "playback", what
            channel.queue_app(app, arg)
        return "+OK Message Sent\n"

    def api_uuid_break(self, args):
        """uuid_break <uuid> [all]: no output on success (break_function in mod_commands.c)."""
        parts = args.split()
        if not parts:
            return "-USAGE: <uuid> [all]\n"
        channel = self._channel(parts[0])
        if channel is None:
            return "-ERR No Such Channel!\n"
        if "all" in parts[1:]:
            channel.app_queue.clear()
        channel.request_break()
        return ""

    def api_uuid_record(self, args):
        """uuid_record <uuid> start|stop|mask|unmask <path> [limit]."""
        return api_uuid_record(self.switch, args)

    def api_uuid_hold(self, args):
        """uuid_hold [off|toggle] <uuid> (uuid_hold_function in mod_commands.c)."""
        parts = args.split()
        if not parts:
            return "-USAGE: [off|toggle] <uuid> [<display>]\n"
        mode = "on"
        if parts[0].lower() in ("off", "toggle"):
            mode = parts.pop(0).lower()
        channel = self._channel(parts[0]) if parts else None
        if channel is None or channel.hungup:
            return "-ERR Operation Failed\n"
        held = (not channel.held) if mode == "toggle" else (mode == "on")
        self.switch.set_hold(channel, held)
        return "+OK Success\n"

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
