"""The ACD: agents and their states, the live state store, routing strategies, queue handling."""

from fs_cc.acd.agents import (Agent, AgentStatus, InvalidStatus, InvalidTransition, TRANSITIONS,
                              UnknownAgent, UnknownQueue)
from fs_cc.acd.store import AgentStore, MemoryStore, RedisStore
from fs_cc.acd.strategy import longest_idle

__all__ = ["Agent", "AgentStatus", "InvalidStatus", "InvalidTransition", "TRANSITIONS",
           "UnknownAgent", "UnknownQueue", "AgentStore", "MemoryStore", "RedisStore",
           "longest_idle"]
