"""Exports run by the worker: a job per request, a file kept for a while, a page to fetch it."""
