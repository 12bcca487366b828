"""`api` commands: status, show, uuid_*, originate and the emulator's own fs_cc_flood."""

import json
import logging
import time

from fs_cc.emulator.channel import ChannelState
from fs_cc.emulator.originate import OriginateError, dial

logger = logging.getLogger(__name__)


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
        """global_getvar name."""
        return self.switch.global_vars.get(args.strip(), "")

    def api_reloadxml(self, _args):
        """reloadxml."""
        return "+OK [Success]\n"

    def api_show(self, args):
        """show channels [as json] / show calls [as json]."""
        words = args.split()
        as_json = "json" in words
        what = words[0] if words else ""
        channels = list(self.switch.channels.values())
        if what == "calls":
            channels = [c for c in channels if c.direction == "inbound" or c.bridged_to is None]
        rows = [self._row(c) for c in channels]
        if as_json:
            if not rows:
                return '{"row_count": 0}\n'
            return json.dumps({"row_count": len(rows), "rows": rows}, separators=(",", ":")) + "\n"
        if not rows:
            return "\n0 total.\n"
        keys = list(rows[0].keys())
        lines = [",".join(keys)] + [",".join(str(r[k]) for k in keys) for r in rows]
        return "\n".join(lines) + "\n\n%d total.\n" % len(rows)

    def _row(self, channel):
        return {
            "uuid": channel.uuid, "direction": channel.direction,
            "created": time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(channel.created_epoch)),
            "created_epoch": str(channel.created_epoch), "name": channel.name,
            "state": channel.state.name, "cid_name": channel.profile.caller_id_name,
            "cid_num": channel.profile.caller_id_number, "ip_addr": "",
            "dest": channel.profile.destination_number, "application": channel.application,
            "application_data": channel.application_data, "dialplan": "xml",
            "context": channel.profile.context, "read_codec": "L16", "read_rate": "8000",
            "read_bit_rate": "128000", "write_codec": "L16", "write_rate": "8000",
            "write_bit_rate": "128000", "secure": "", "hostname": self.switch.hostname,
            "presence_id": "", "presence_data": "", "accountcode": "",
            "callstate": channel.call_state.name, "callee_name": channel.profile.callee_id_name,
            "callee_num": channel.profile.callee_id_number, "callee_direction": "",
            "call_uuid": channel.call_uuid, "sent_callee_name": "", "sent_callee_num": "",
            "initial_cid_name": channel.profile.orig_caller_id_name,
            "initial_cid_num": channel.profile.orig_caller_id_number, "initial_ip_addr": "",
            "initial_dest": channel.profile.destination_number, "initial_dialplan": "xml",
            "initial_context": channel.profile.context,
        }

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
        channel = self._channel(parts[0]) if parts else None
        if channel is None:
            return "-ERR No such channel!\n"
        digits = parts[1] if len(parts) > 1 else ""
        target = channel.loopback_partner or self.switch.channels.get(channel.bridged_to or "")
        if target is not None:
            target.receive_dtmf("".join(d for d in digits if d in "0123456789*#ABCD"))
        return "+OK %s sent DTMF %s.\n" % (channel.uuid, digits)

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
        """uuid_transfer <uuid> [-bleg|-both] <dest> [dialplan] [context]."""
        parts = args.split()
        channel = self._channel(parts[0]) if parts else None
        if channel is None:
            return "-ERR No such channel!\n"
        rest = [p for p in parts[1:] if not p.startswith("-")]
        if not rest:
            return "-ERR Usage\n"
        context = rest[2] if len(rest) > 2 else channel.profile.context
        self.switch.transfer(channel, rest[0], context)
        return "+OK\n"

    def api_uuid_broadcast(self, args):
        """uuid_broadcast <uuid> <path|app::args> [aleg|bleg|both]."""
        parts = args.split()
        channel = self._channel(parts[0]) if parts else None
        if channel is None:
            return "-ERR No such channel!\n"
        what = parts[1] if len(parts) > 1 else ""
        if "::" in what:
            app, _, arg = what.partition("::")
        else:
            app, arg = "playback", what
        channel.queue_app(app, arg.replace("!", " ") if app != "playback" else arg)
        return "+OK Message sent\n"

    def api_uuid_break(self, args):
        """uuid_break <uuid> [all]."""
        channel = self._channel(args.split()[0]) if args.split() else None
        if channel is None:
            return "-ERR No such channel!\n"
        if args.split()[-1] == "all":
            channel.app_queue.clear()
        channel.request_break()
        return "+OK\n"

    def api_uuid_record(self, args):
        """uuid_record <uuid> start|stop|mask|unmask <path>."""
        parts = args.split()
        channel = self._channel(parts[0]) if parts else None
        if channel is None:
            return "-ERR Cannot locate session!\n"
        action = parts[1] if len(parts) > 1 else "start"
        path = parts[2] if len(parts) > 2 else ""
        channel.set_var("fs_cc_recording", path if action == "start" else None)
        return "+OK Success\n"

    def api_uuid_hold(self, args):
        """uuid_hold [off|toggle] <uuid>."""
        parts = args.split()
        mode = "on"
        if parts and parts[0] in ("off", "toggle"):
            mode = parts.pop(0)
        channel = self._channel(parts[0]) if parts else None
        if channel is None:
            return "-ERR Operation failed\n"
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

    def api_fs_cc_flood(self, args):
        """fs_cc_flood <n> [event-name]: fire n synthetic events for benchmarks."""
        parts = args.split()
        count = int(parts[0]) if parts else 1
        name = parts[1] if len(parts) > 1 else "CHANNEL_STATE"
        self.switch.flood(count, name)
        return "+OK %d\n" % count


__all__ = ["Api", "ChannelState"]
