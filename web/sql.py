"""Small SQL helpers shared by the services' searches."""


def escape_like(text):
    """``text`` with LIKE's wildcards escaped (use with ``escape="\\\\"``)."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
