"""What inbound and outbound ESL connections share: subscriptions, replies, api/bgapi, sendmsg."""

import logging
import uuid as uuidlib

import gevent
import gevent.queue

from fs_cc.emulator.bus import MYEVENTS_OUTBOUND, Subscription
from fs_cc.emulator.protocol import (CommandReader, ConnectionClosed, api_response, command_reply,
                                     disconnect_notice)

logger = logging.getLogger(__name__)

# switch_log_str2level.
LOG_LEVELS = {"console": 0, "alert": 1, "crit": 2, "err": 3, "error": 3, "warning": 4, "notice": 5,
              "info": 6, "debug": 7}


class Connection:
    """One ESL connection: a reader loop on the caller's greenlet and a writer greenlet."""

    def __init__(self, switch, sock):
        self.switch = switch
        self.sock = sock
        self.reader = CommandReader(sock)
        self.subscription = Subscription()
        self._out = gevent.queue.Queue()
        self._sink = None
        self.closed = False
        self.format = "plain"
        self.logging = False
        self._writer = gevent.spawn(self._write_loop)
        self._writer.link_exception(switch.log_failure)

    # -- output ----------------------------------------------------------------------------
    def send(self, data):
        """Queue bytes for the peer, after everything queued before."""
        if not self.closed:
            self._out.put(data)

    def deliver(self, event):
        """Event sink for the bus."""
        if not self.closed:
            self._out.put(event.framed(self.format))

    def close(self):
        """Flush what is queued, then close the socket."""
        if self.closed:
            return
        self.closed = True
        if self._sink is not None:
            self.switch.bus.remove(self._sink)
            self._sink = None
        self._out.put(None)

    def _write_loop(self):
        try:
            while True:
                data = self._out.get()
                if data is None:
                    break
                # Batch what is already queued: one syscall for an event flood.
                chunks = [data]
                while not self._out.empty() and len(chunks) < 256:
                    more = self._out.peek()
                    if more is None:
                        break
                    chunks.append(self._out.get())
                self.sock.sendall(b"".join(chunks))
                # an idle connection must not keep its last batch alive while it waits
                chunks = data = more = None
        except OSError as exc:
            logger.debug("peer gone while writing: %s", exc)
        finally:
            self.closed = True
            if self._sink is not None:
                self.switch.bus.remove(self._sink)
                self._sink = None
            try:
                self.sock.close()
            except OSError:
                pass

    def wait_flushed(self, timeout=5):
        """Block until the writer has sent everything and closed the socket."""
        self._writer.join(timeout)

    def _subscribe(self):
        if self._sink is None:
            self._sink = self.switch.bus.add(self.subscription, self.deliver)

    # -- input -----------------------------------------------------------------------------
    def serve_commands(self):
        """Read and handle commands until the peer leaves or we close."""
        try:
            while not self.closed:
                first, headers, body = self.reader.read()
                if not first:
                    continue
                self.handle(first, headers, body)
        except (ConnectionClosed, OSError):
            pass
        finally:
            self.on_peer_gone()

    def on_peer_gone(self):
        """The reader ended."""
        self.close()

    def handle(self, line, headers, body):
        """Dispatch one command line."""
        cmd, _, rest = line.partition(" ")
        handler = getattr(self, "cmd_" + cmd.lower(), None)
        if handler is None:
            self.send(command_reply("-ERR command not found"))
            return
        handler(rest.strip(), headers, body)

    def cmd_event(self, rest, _headers, _body):
        """event [plain|json|xml] NAMES [CUSTOM subclass ...] (mod_event_socket parse_command)."""
        words = rest.split()
        if words and words[0].lower() in ("plain", "json", "xml"):
            self.format = words.pop(0).lower()
        if not self.subscription.enable(words):
            self.send(command_reply("-ERR no keywords supplied"))
            return
        self._subscribe()
        self.send(command_reply("+OK event listener enabled %s" % self.format))

    def cmd_nixevent(self, rest, _headers, _body):
        """nixevent NAMES."""
        if not self.subscription.disable(rest.split()):
            self.send(command_reply("-ERR no keywords supplied"))
            return
        self.send(command_reply("+OK events nixed"))

    def cmd_noevents(self, _rest, _headers, _body):
        """noevents: `-ERR not listening for events` when nothing was subscribed."""
        if self._sink is None:
            self.send(command_reply("-ERR not listening for events"))
            return
        self.subscription.clear()
        self.switch.bus.remove(self._sink)
        self._sink = None
        self.send(command_reply("+OK no longer listening for events"))

    def cmd_filter(self, rest, _headers, _body):
        """filter [add] H V / filter delete H [V] / filter delete all (mod_event_socket parse_command)."""
        header, _, value = rest.strip().partition(" ")
        if header.lower() == "delete" and value:
            header, _, value = value.partition(" ")
            if header.lower() == "all":
                self.subscription.filters.clear()
            else:
                self.subscription.filters = [
                    f for f in self.subscription.filters
                    if not (f[0] == header and (not value or f[1] == value))]
            self.send(command_reply("+OK filter deleted. [%s][%s]" % (header, value)))
            return
        if not value:
            self.send(command_reply("-ERR invalid syntax"))
            return
        if header.lower() == "add":
            header, _, value = value.partition(" ")
        self.subscription.filters.append((header, value))
        self.send(command_reply("+OK filter added. [%s]=[%s]" % (header, value)))

    def cmd_api(self, rest, _headers, _body):
        """api CMD ARGS: run inline, reply api/response."""
        command, _, args = rest.partition(" ")
        # api_exec in mod_event_socket.c: an empty reply becomes "-ERR no reply".
        self.send(api_response(self.switch.api.execute(command, args.strip()) or "-ERR no reply\n"))

    def cmd_bgapi(self, rest, headers, _body):
        """bgapi CMD ARGS: reply with a Job-UUID, then a BACKGROUND_JOB event."""
        job_uuid = headers.get("job-uuid") or str(uuidlib.uuid4())
        self.send(command_reply("+OK Job-UUID: %s" % job_uuid, [("Job-UUID", job_uuid)]))
        command, _, args = rest.partition(" ")
        job = gevent.spawn(self.switch.api.background, job_uuid, command, args.strip())
        job.link_exception(self.switch.log_failure)

    def cmd_sendmsg(self, rest, headers, body):
        """sendmsg [uuid] with call-command execute|hangup|unicast|nomedia."""
        channel = self.switch.channels.get(rest.strip()) if rest.strip() else self.default_channel()
        if channel is None:
            self.send(command_reply("-ERR invalid session id [%s]" % rest.strip()))
            return
        command = headers.get("call-command", "")
        if command == "execute":
            arg = headers.get("execute-app-arg", "")
            if not arg and body and headers.get("content-type", "").startswith("text/plain"):
                arg = body
            loops = int(headers.get("loops", "1") or 1)
            lock = headers.get("event-lock", "").lower() in ("true", "yes", "1")
            channel.queue_app(headers.get("execute-app-name", ""), arg, headers.get("event-uuid"),
                              loops, event_lock=lock)
            self.send(command_reply("+OK"))
        elif command == "hangup":
            self.send(command_reply("+OK"))
            channel.hangup(headers.get("hangup-cause", "NORMAL_CLEARING"))
        else:
            # The message is queued to the session whatever it says (switch_ivr_parse_event acts
            # later); unicast and nomedia have no media to act on here.
            self.send(command_reply("+OK"))

    def default_channel(self):
        """The channel a bare sendmsg addresses (outbound only)."""
        return None

    def cmd_myevents(self, rest, _headers, _body):
        """myevents [uuid]: this session's events only."""
        channel = self.default_channel()
        words = [w for w in rest.split() if w.lower() not in ("plain", "json", "xml")]
        target = words[0] if words and channel is None else (channel.uuid if channel else None)
        if target is None:
            self.send(command_reply("-ERR command not found"))
            return
        if self.subscription.session_uuid is not None:
            self.send(command_reply("-ERR aready enabled."))
            return
        if "json" in rest.lower().split():
            self.format = "json"
        elif "xml" in rest.lower().split():
            self.format = "xml"
        self.subscription.session_uuid = target
        self.subscription.drop_destroy_state = channel is not None
        self.subscription.enable(MYEVENTS_OUTBOUND)
        self._subscribe()
        self.send(command_reply("+OK Events Enabled"))

    def cmd_divert_events(self, rest, _headers, _body):
        """divert_events on|off (outbound sessions only)."""
        if self.default_channel() is None:
            self.send(command_reply("-ERR not controlling a session."))
        elif not rest.strip():
            self.send(command_reply("-ERR missing value."))
        else:
            self.send(command_reply("+OK events diverted" if rest.strip().lower() == "on"
                                    else "+OK events not diverted"))

    def cmd_log(self, rest, _headers, _body):
        """log [LEVEL]: `+OK log level <as given> [<number>]`; no log lines are sent."""
        level = rest.strip()
        number = LOG_LEVELS.get(level.lower(), 7) if level else 7
        if level.isdigit():
            number = int(level) if int(level) <= 7 else None
        elif level and level.lower() not in LOG_LEVELS:
            number = None
        if number is None:
            self.send(command_reply("-ERR invalid log level"))
            return
        self.logging = True
        self.send(command_reply("+OK log level %s [%d]" % (level, number)))

    def cmd_nolog(self, _rest, _headers, _body):
        """nolog (the `loging` typo is FreeSWITCH's)."""
        if not self.logging:
            self.send(command_reply("-ERR not loging"))
            return
        self.logging = False
        self.send(command_reply("+OK no longer logging"))

    def cmd_exit(self, _rest, _headers, _body):
        """exit: +OK bye, the disconnect notice, close."""
        self.send(command_reply("+OK bye"))
        self.send(disconnect_notice(self.notice_uuid()))
        self.close()

    def notice_uuid(self):
        """Controlled-Session-UUID for disconnect notices (outbound only)."""
        return None
