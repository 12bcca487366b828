"""Call recordings: what the engine recorded, as the worker found the files, and their retention."""
