"""Exceptions shared across fs_cc; each carries the data that explains it."""


class FsCcError(Exception):
    """Base of every fs_cc error."""


class ConfigError(FsCcError):
    """A setting or a configuration file is wrong."""

    def __init__(self, message, path=None, line=None):
        self.path = path
        self.line = line
        where = ""
        if path is not None:
            where = f"{path}:{line}: " if line is not None else f"{path}: "
        super().__init__(f"{where}{message}")
        self.message = message
