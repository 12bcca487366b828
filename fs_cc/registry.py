"""Which engines run and which engine owns which call, in Redis, so commands reach the right one.

With several engines (one per FreeSWITCH node, sharing Redis), each engine announces its control
interface's address every few seconds (a key that expires if it dies) and marks the calls it
handles. The web sends a call command to the engine that owns the call, an agent command to any
live engine (agent state is shared in Redis), and a catalog change to all of them.

Keys (under ``prefix``): ``engines`` (set of ids), ``engine:<id>`` (its control URL, expiring),
``call:<uuid>`` (the id of the engine that owns the call, expiring after a day at the latest).
"""

import logging

import redis

from fs_cc.bus import BusUnavailable

logger = logging.getLogger(__name__)

CALL_TTL = 86400  # a call outlives no day; a key of a call whose end was lost goes by itself


class EngineRegistry:
    """The engines' announcements and the calls' owners (redis-py client given by the caller)."""

    def __init__(self, client, prefix="fs_cc:", ttl=15.0):
        self.client = client
        self.prefix = prefix
        self.ttl = ttl  # seconds an announcement lasts; engines renew it well before

    def _key(self, *parts):
        return self.prefix + ":".join(parts)

    def _run(self, operation, key, function):
        try:
            return function()
        except redis.RedisError as exc:
            raise BusUnavailable(operation, key, exc) from exc

    def announce(self, engine_id, control_url):
        """Say that ``engine_id`` is alive and answers commands at ``control_url``."""
        key = self._key("engine", engine_id)

        def write():
            with self.client.pipeline() as pipe:
                pipe.sadd(self._key("engines"), engine_id)
                pipe.set(key, control_url, px=int(self.ttl * 1000))
                pipe.execute()

        self._run("announce", key, write)

    def withdraw(self, engine_id):
        """An engine that stops says so at once."""
        key = self._key("engine", engine_id)

        def remove():
            with self.client.pipeline() as pipe:
                pipe.srem(self._key("engines"), engine_id)
                pipe.delete(key)
                pipe.execute()

        self._run("withdraw", key, remove)

    def engines(self):
        """{engine id: control URL} of the engines whose announcement has not expired."""
        ids = sorted(_text(i) for i in self._run("engines", self._key("engines"),
                                                  lambda: self.client.smembers(self._key("engines"))))
        if not ids:
            return {}
        urls = self._run("engines", self._key("engine", "*"),
                         lambda: self.client.mget([self._key("engine", i) for i in ids]))
        return {engine_id: _text(url) for engine_id, url in zip(ids, urls) if url is not None}

    def own_call(self, call_uuid, engine_id):
        """Mark ``engine_id`` as the engine that handles the call."""
        key = self._key("call", call_uuid)
        self._run("own call", key, lambda: self.client.set(key, engine_id, ex=CALL_TTL))

    def release_call(self, call_uuid):
        """The call ended."""
        key = self._key("call", call_uuid)
        self._run("release call", key, lambda: self.client.delete(key))

    def owner(self, call_uuid):
        """The id of the engine that owns the call, or None."""
        key = self._key("call", call_uuid)
        value = self._run("owner", key, lambda: self.client.get(key))
        return _text(value) if value is not None else None


def _text(value):
    return value.decode() if isinstance(value, bytes) else value
