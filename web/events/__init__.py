"""Live events for the browser: the engine's domain events as server-sent events (/api/events)."""
