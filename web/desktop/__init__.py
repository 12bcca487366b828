"""The agent desktop (/desktop): the agent's state and queues, the screen pop, wrap-up with a
disposition, drafts kept server-side; its JSON API at /api/desktop."""
