"""The supervisor's seat (/supervisor): the wallboard per queue, the agents and calls live, and
the actions on them; its JSON API at /api/supervisor."""
