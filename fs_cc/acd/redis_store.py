"""ACD state in Redis, shared by several engines.

Keys (under ``prefix``): ``agents`` (set of extensions), ``agent:<ext>`` (hash), ``queue:<q>:agents``
(set of extensions), ``queue:<q>:available`` (sorted set of the available ones by idle time, kept
in the same transaction as the agent's hash), ``queue:<q>:waiting`` (sorted set of call UUIDs by
rank key: priority, then the time they queued).
Every change to an agent runs under WATCH on its hash and commits in MULTI/EXEC, so two engines
reserving at once never both get the same agent: the second one's transaction fails and retries.
"""

import dataclasses
import json
import logging
import time

import redis

from fs_cc.acd.agents import Agent, AgentStatus, UnknownAgent
from fs_cc.acd.base import (LEVEL_STEP, AgentStore, answered, apply_transition, check_live_fields,
                            idle_key, rank_key)
from fs_cc.acd.strategy import Context, best_tier, choose, ring_group
from fs_cc.errors import FsCcError

logger = logging.getLogger(__name__)


class StoreContention(FsCcError):
    """An agent's record kept changing under us; the operation gave up."""

    def __init__(self, extension, attempts):
        self.extension = extension
        self.attempts = attempts
        super().__init__(f"agent {extension} changed {attempts} times while we tried to update it")


def _text(value):
    return value.decode() if isinstance(value, bytes) else value


def _optional_float(text):
    return float(text) if text else None


_REGISTERED = {"": None, "true": True, "false": False}
COUNTERS = ("calls_answered", "talk_seconds", "answered_at")  # what the stats strategies read


def _decode(raw):
    data = {_text(k): _text(v) for k, v in raw.items()}
    return Agent(
        extension=data["extension"],
        name=data.get("name", ""),
        queues=tuple(json.loads(data.get("queues") or "[]")),
        status=AgentStatus(data.get("status", AgentStatus.LOGGED_OUT.value)),
        status_since=float(data.get("status_since") or 0.0),
        last_call_ended_at=_optional_float(data.get("last_call_ended_at")),
        skills=json.loads(data.get("skills") or "{}"),
        levels=json.loads(data.get("levels") or "{}"),
        reason=data.get("reason") or None,
        after_call=data.get("after_call") or None,
        registered=_REGISTERED[data.get("registered", "")],
        calls_answered=int(data.get("calls_answered") or 0),
        talk_seconds=float(data.get("talk_seconds") or 0.0),
        answered_at=tuple(json.loads(data.get("answered_at") or "[]")),
        no_answers=int(data.get("no_answers") or 0),
    )


def _encode(agent):
    return {
        "extension": agent.extension,
        "name": agent.name,
        "queues": json.dumps(list(agent.queues)),
        "status": agent.status.value,
        "status_since": repr(agent.status_since),
        "last_call_ended_at": "" if agent.last_call_ended_at is None
        else repr(agent.last_call_ended_at),
        "skills": json.dumps(dict(agent.skills), sort_keys=True),
        "levels": json.dumps(dict(agent.levels), sort_keys=True),
        "reason": agent.reason or "",
        "after_call": agent.after_call or "",
        "registered": "" if agent.registered is None else str(agent.registered).lower(),
        "calls_answered": str(agent.calls_answered),
        "talk_seconds": repr(agent.talk_seconds),
        "answered_at": json.dumps(list(agent.answered_at)),
        "no_answers": str(agent.no_answers),
    }


# AVAILABLE -> RESERVED in one step on the server: the agent's hash and its queues' availability
# sets change together or not at all (a script runs alone), in one round trip instead of the
# WATCH/MULTI's three. ARGV: the time, the key prefix, the extension, a queue it must be in ("").
_RESERVE = """
local key = KEYS[1]
if redis.call('HGET', key, 'status') ~= 'available' then return false end
if redis.call('HGET', key, 'registered') == 'false' then return false end
local queues = cjson.decode(redis.call('HGET', key, 'queues') or '[]')
if ARGV[4] ~= '' then
  local member = false
  for _, queue in ipairs(queues) do if queue == ARGV[4] then member = true end end
  if not member then return false end
end
redis.call('HSET', key, 'status', 'reserved', 'status_since', ARGV[1])
for _, queue in ipairs(queues) do
  redis.call('ZREM', ARGV[2] .. 'queue:' .. queue .. ':available', ARGV[3])
end
return redis.call('HGETALL', key)
"""


class RedisStore(AgentStore):
    """Live ACD state in Redis (redis-py client given by the caller)."""

    max_attempts = 1000

    def __init__(self, client, prefix="fs_cc:acd:", clock=time.time):
        super().__init__(clock)
        self.client = client
        self.prefix = prefix
        self._reserve = client.register_script(_RESERVE)
        # agents' definitions (name, queues, skills) as this process last wrote or read them:
        # they change with the catalog, not with each call, so a reservation can judge who fits
        # without loading every free agent's hash
        self._definitions = {}

    def _agent_key(self, extension):
        return f"{self.prefix}agent:{extension}"

    def _queue_agents_key(self, queue):
        return f"{self.prefix}queue:{queue}:agents"

    def _available_key(self, queue):
        return f"{self.prefix}queue:{queue}:available"

    def _cursor_key(self, queue):
        return f"{self.prefix}queue:{queue}:cursor"

    def _waiting_key(self, queue):
        return f"{self.prefix}queue:{queue}:waiting"

    def _update(self, extension, change, missing_ok=False):
        """Apply ``change(agent or None) -> Agent`` under WATCH; retries when another writer won."""
        key = self._agent_key(extension)
        for _ in range(self.max_attempts):
            with self.client.pipeline() as pipe:
                try:
                    pipe.watch(key)
                    raw = pipe.hgetall(key)
                    if not raw and not missing_ok:
                        raise UnknownAgent(extension)
                    before = _decode(raw) if raw else None
                    after = change(before)
                    if after is None:
                        return None
                    pipe.multi()
                    pipe.hset(key, mapping=_encode(after))
                    pipe.sadd(f"{self.prefix}agents", extension)
                    self._index(pipe, before, after)
                    pipe.execute()
                    return after
                except redis.WatchError:
                    continue
        raise StoreContention(extension, self.max_attempts)

    def _index(self, pipe, before, after):
        """Queue membership and availability sets of an agent changing from ``before``."""
        extension = after.extension
        for queue in set(before.queues if before else ()) - set(after.queues):
            pipe.srem(self._queue_agents_key(queue), extension)
            pipe.zrem(self._available_key(queue), extension)
        for queue in after.queues:
            pipe.sadd(self._queue_agents_key(queue), extension)
            if after.status is AgentStatus.AVAILABLE and after.reachable:
                pipe.zadd(self._available_key(queue), {extension: idle_key(after, queue)})
            else:
                pipe.zrem(self._available_key(queue), extension)

    def define_agent(self, extension, name="", queues=(), skills=None, levels=None):
        definition = {"name": name, "queues": tuple(queues), "skills": dict(skills or {}),
                      "levels": dict(levels or {})}

        def change(agent):
            if agent is None:
                return Agent(extension, status=AgentStatus.LOGGED_OUT, status_since=self.clock(),
                             **definition)
            return dataclasses.replace(agent, **definition)

        agent = self._update(extension, change, missing_ok=True)
        self._remember(agent)
        return agent

    def _remember(self, agent):
        # an available agent as a decision sees it, built once per definition; only its idle
        # time changes from one decision to the next (set from the index entry)
        self._definitions[agent.extension] = Agent(
            agent.extension, agent.name, agent.queues, AgentStatus.AVAILABLE,
            skills=dict(agent.skills), levels=dict(agent.levels))

    def get_agent(self, extension):
        raw = self.client.hgetall(self._agent_key(extension))
        if not raw:
            raise UnknownAgent(extension)
        return _decode(raw)

    def _load(self, extensions):
        with self.client.pipeline(transaction=False) as pipe:
            for extension in extensions:
                pipe.hgetall(self._agent_key(extension))
            return [_decode(raw) for raw in pipe.execute() if raw]

    def list_agents(self):
        extensions = sorted(_text(e) for e in self.client.smembers(f"{self.prefix}agents"))
        return self._load(extensions)

    def set_status(self, extension, status, *, expected=None, reason=None):
        return self._update(extension, lambda agent: apply_transition(
            agent, status, self.clock(), expected, reason))

    def change(self, extension, **fields):
        check_live_fields(fields)
        return self._update(extension, lambda agent: dataclasses.replace(agent, **fields))

    def record_answer(self, extension):
        return self._update(extension, lambda agent: answered(agent, self.clock()))

    def record_talk(self, extension, seconds):
        return self._update(extension, lambda agent: dataclasses.replace(
            agent, talk_seconds=agent.talk_seconds + max(0.0, seconds)))

    def record_no_answer(self, extension):
        agent = self._update(extension, lambda agent: dataclasses.replace(
            agent, no_answers=agent.no_answers + 1))
        return agent.no_answers

    def reserve_best(self, queue, required, strategy, exclude=()):
        for _ in range(self.max_attempts):
            free = self.client.zrange(self._available_key(queue), 0, -1, withscores=True)
            agents = self._candidates(free, queue)
            if strategy.stats:
                # only the agents that can win need their counters, read from their hashes
                agents = self._with_counters(best_tier(agents, required, queue, exclude))
            cursor = self.client.get(self._cursor_key(queue)) if strategy.cursor else None
            ctx = Context(queue, self.clock(), _text(cursor) if cursor else None, self.rng)
            chosen = choose(agents, required, ctx, strategy, exclude)
            if chosen is None:
                return None
            reserved = self._reserve_if_available(chosen.extension, queue)
            if reserved is not None:
                if strategy.cursor:
                    self.client.set(self._cursor_key(queue), reserved.extension)
                return reserved
            # taken or changed since we looked: choose again
        raise StoreContention(f"(queue {queue})", self.max_attempts)

    def reserve_group(self, queue, required, exclude=(), limit=None):
        free = self.client.zrange(self._available_key(queue), 0, -1, withscores=True)
        group = ring_group(self._candidates(free, queue), required,
                           Context(queue, self.clock()), exclude, limit)
        reserved = (self._reserve_if_available(agent.extension, queue) for agent in group)
        return [agent for agent in reserved if agent is not None]

    def waiting_heads(self, queues, count):
        with self.client.pipeline(transaction=False) as pipe:
            for queue in queues:
                pipe.zrange(self._waiting_key(queue), 0, count - 1, withscores=True)
            results = pipe.execute()
        heads = [(_text(uuid), score) for entries in results for uuid, score in entries]
        heads.sort(key=lambda entry: entry[1])
        return heads

    def reserve_first(self, queue, accept, chunk=4):
        start = 0
        while True:
            # the available agents in idle order (equal times: by extension, as longest_idle)
            entries = self.client.zrange(self._available_key(queue), start, start + chunk - 1,
                                         withscores=True)
            if not entries:
                return None
            for agent in self._candidates(entries, queue):
                if not accept(agent):
                    continue
                reserved = self._reserve_if_available(agent.extension, queue)
                if reserved is not None:
                    return reserved
            start += chunk
            chunk = min(chunk * 4, 256)  # the first few usually fit: look further in bigger steps

    def _with_counters(self, agents):
        """``agents`` (templates) with the counters the stats strategies read, in one trip."""
        with self.client.pipeline(transaction=False) as pipe:
            for agent in agents:
                pipe.hmget(self._agent_key(agent.extension), *COUNTERS)
            rows = pipe.execute()
        for agent, (calls, talk, answered_at) in zip(agents, rows):
            agent.calls_answered = int(calls or 0)
            agent.talk_seconds = float(talk or 0.0)
            agent.answered_at = tuple(json.loads(answered_at or "[]"))
        return agents

    def _candidates(self, entries, queue):
        """Available agents of ``queue`` from its index entries (extension, idle key), as their
        definitions describe them (hashes loaded only when unknown).

        The reservation itself checks the live status on the server, so a definition that is a
        moment old costs at most a skipped or refused candidate, never a double offer.
        """
        entries = [(_text(extension), score) for extension, score in entries]
        unknown = [ext for ext, _ in entries if ext not in self._definitions]
        for agent in self._load(unknown):
            self._remember(agent)
        out = []
        for extension, score in entries:
            agent = self._definitions.get(extension)
            if agent is not None:
                # a template of this store's own: the decision reads it and the reservation
                # returns the agent as the server holds it, so setting the time here is safe
                agent.status_since = score - agent.level_in(queue) * LEVEL_STEP
                out.append(agent)
        return out

    def _reserve_if_available(self, extension, queue=""):
        """RESERVED if still AVAILABLE (and in ``queue``, if given); None if taken meanwhile."""
        raw = self._reserve(keys=[self._agent_key(extension)],
                            args=[repr(self.clock()), self.prefix, extension, queue or ""])
        if not raw:
            return None
        return _decode(dict(zip(raw[::2], raw[1::2])))

    def reserve_agent(self, extension):
        return self._reserve_if_available(extension)

    def enqueue_caller(self, queue, call_uuid, since=None, priority=0):
        key = self._waiting_key(queue)
        moment = self.clock() if since is None else since
        with self.client.pipeline() as pipe:  # one round trip: add, then read the place
            pipe.zadd(key, {call_uuid: rank_key(moment, priority)}, nx=True)
            pipe.zrank(key, call_uuid)
            _, rank = pipe.execute()
        return None if rank is None else rank + 1

    def dequeue_caller(self, queue, call_uuid):
        return bool(self.client.zrem(self._waiting_key(queue), call_uuid))

    def caller_position(self, queue, call_uuid):
        rank = self.client.zrank(self._waiting_key(queue), call_uuid)
        return None if rank is None else rank + 1

    def waiting_callers(self, queue):
        return [_text(u) for u in self.client.zrange(self._waiting_key(queue), 0, -1)]

    def waiting_head(self, queue, count):
        entries = self.client.zrange(self._waiting_key(queue), 0, count - 1, withscores=True)
        return [(_text(uuid), score) for uuid, score in entries]
