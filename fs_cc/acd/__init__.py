"""The ACD: agents and their states, the live state store, routing strategies, queue handling."""

from fs_cc.acd.agents import (Agent, AgentStatus, InvalidStatus, InvalidTransition, TRANSITIONS,
                              UnknownAgent, UnknownQueue)
from fs_cc.acd.acd import ACD
from fs_cc.acd.config import Queue, build_acd
from fs_cc.acd.waiting import QueueResult
from fs_cc.acd.store import AgentStore, MemoryStore, RedisStore
from fs_cc.acd.strategy import longest_idle

__all__ = ["ACD", "Queue", "build_acd", "Agent", "AgentStatus", "InvalidStatus", "InvalidTransition", "TRANSITIONS",
           "UnknownAgent", "UnknownQueue", "AgentStore", "MemoryStore", "RedisStore",
           "longest_idle", "QueueResult"]
