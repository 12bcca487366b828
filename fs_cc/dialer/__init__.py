"""The outbound dialer: abandon-rate policy, pacing (pure), and the simulation that measures it."""
