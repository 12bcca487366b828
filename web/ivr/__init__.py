"""IVR flows in the web app: every saved version kept, the JSON API the flow editor reads."""
