"""Callbacks when all agents are busy (遇忙回拨): stored requests, the beat task, page and API."""
