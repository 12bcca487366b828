"""The control interface of every engine, behind the one client the web uses.

One engine (the embedded default): the configured ControlClient. Several engines sharing Redis
(fs_cc.registry): a call's command goes to the engine that owns the call, an agent's to any live
engine (agent state is shared in Redis), a catalog change to all of them; calls in progress are
gathered from all. Same methods as ControlClient, so views and services do not care which.
"""

import logging

from fs_cc import codec
from fs_cc.bus import BusUnavailable
from fs_cc.control import commands as cmd
from fs_cc.control.client import ControlClient, ControlRefused, ControlUnavailable

logger = logging.getLogger(__name__)



def call_of(command):
    """The call a command is about (its ``call_uuid``), or None: every control of a live call
    (hold, mute, consult, transfer, take-over...) names it, and only the engine owning the call
    can act on it."""
    if "call_uuid" in codec.field_names(type(command)):
        return command.call_uuid or None
    return None


# a callback's commands go to the engine holding it (it notes its ids as calls it owns)
CALLBACK_COMMANDS = (cmd.QueueCallback, cmd.CancelCallback)


class EngineRouter:
    """ControlClient's methods over the engines of a registry (or the one ``default`` client)."""

    def __init__(self, default, registry=None, secret=None, timeout=2.0):
        self.default = default
        self.registry = registry
        self._secret = secret
        self._timeout = timeout
        self._clients = {}  # control URL -> ControlClient

    def _client(self, url):
        if url not in self._clients:
            self._clients[url] = ControlClient(url, self._secret, timeout=self._timeout)
        return self._clients[url]

    def clients(self):
        """A client of each live engine (the default one when there is no registry or none)."""
        if self.registry is None:
            return [self.default]
        try:
            urls = list(self.registry.engines().values())
        except BusUnavailable as exc:
            logger.warning("engine registry unavailable (%s); asking the configured engine", exc)
            return [self.default]
        return [self._client(url) for url in urls] or [self.default]

    def for_call(self, call_uuid):
        """The client of the engine that owns ``call_uuid`` (the default when unknown)."""
        if self.registry is None:
            return self.default
        try:
            owner = self.registry.owner(call_uuid)
            url = self.registry.engines().get(owner) if owner else None
        except BusUnavailable as exc:
            logger.warning("engine registry unavailable (%s); asking the configured engine", exc)
            return self.default
        return self._client(url) if url else self.default

    def _first(self, read):
        last = None
        for client in self.clients():
            try:
                return read(client)
            except ControlUnavailable as exc:
                last = exc
        raise last

    # ControlClient's methods
    def agents(self):
        """Each agent's live state (shared by the engines: any one answers)."""
        return self._first(lambda client: client.agents())

    def queues(self):
        """Each queue's live figures (shared: any one answers)."""
        return self._first(lambda client: client.queues())

    def calls(self):
        """Calls in progress on every engine that answers."""
        out, answered, last = [], False, None
        for client in self.clients():
            try:
                out.extend(client.calls())
                answered = True
            except ControlUnavailable as exc:
                last = exc
                logger.warning("engine control unavailable at %s: %s", exc.url, exc.reason)
        if not answered and last is not None:
            raise last
        return out

    def call(self, uuid):
        """What the engine that owns the call knows of it (ControlRefused 404 when none does).

        The owner first; when it does not know the call, the other live engines: a call is
        released from the registry when it ends (its wrap-up pop still asks), and a callback's
        call is noted there only once the agent answered.
        """
        owner = self.for_call(uuid)
        try:
            return owner.call(uuid)
        except ControlRefused as refused:
            if refused.status != 404 or self.registry is None:
                raise
            for client in self.clients():
                if client.base_url == owner.base_url:  # asked already
                    continue
                try:
                    return client.call(uuid)
                except ControlRefused as exc:
                    if exc.status != 404:
                        raise
                except ControlUnavailable as exc:
                    logger.warning("engine control unavailable at %s: %s", exc.url, exc.reason)
            raise

    def execute(self, command):
        """Send a command to the engine it concerns."""
        if isinstance(command, CALLBACK_COMMANDS):  # callback.reschedule is a callback.queue
            return self.for_call(command.callback_id).execute(command)
        call = call_of(command)
        if call is not None:
            return self.for_call(call).execute(command)
        if isinstance(command, cmd.ReloadCatalog):
            results = [client.execute(command) for client in self.clients()]
            return results[0] if results else {}
        return self._first(lambda client: client.execute(command))

    def set_agent_status(self, extension, status, reason=""):
        """Move an agent to a status (through any engine)."""
        return self._first(lambda client: client.set_agent_status(extension, status, reason))

    def reload_catalog(self):
        """Tell every engine that the catalog changed."""
        return self.execute(cmd.ReloadCatalog())

    def events(self, on_open=None, stop=None):
        """The configured engine's event stream (with Redis the web reads the bus instead)."""
        return self.default.events(on_open=on_open, stop=stop)
