"""The catalog feature: queues, agents, memberships and DID routes, edited by admins."""
