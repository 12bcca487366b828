"""The agents feature: each agent's live state, asked of the engine."""
