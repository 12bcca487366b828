"""The JSON API: the same data as the pages, for scripts and the pages' own refreshes."""
