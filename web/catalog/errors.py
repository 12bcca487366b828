"""Errors of the catalog services; each names the field at fault and its HTTP status."""

from web.errors import WebError


class CatalogError(WebError):
    """A catalog change was refused; ``field`` names the value at fault."""

    status = 400


class InvalidField(CatalogError):
    """A value is missing, of the wrong type or out of range."""

    status = 400


class NotFound(CatalogError):
    """No queue, agent, DID or user is known by that key."""

    status = 404


class Conflict(CatalogError):
    """The value is already taken (a name, an extension, a user, a number)."""

    status = 409


class ImportRejected(CatalogError):
    """A DID file had problems; ``problems`` holds each as a ConfigError with file and line."""

    status = 400

    def __init__(self, problems):
        self.problems = list(problems)
        count = len(self.problems)
        super().__init__(f"{count} problem{'' if count == 1 else 's'}, nothing imported: "
                         + "; ".join(str(problem) for problem in self.problems), field="file")

    def to_dict(self):
        """The JSON error body, with each problem's file, line and message."""
        return dict(super().to_dict(), problems=[
            {"file": p.path, "line": p.line, "error": p.message} for p in self.problems])
