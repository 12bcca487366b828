"""Errors of the CRM services; each names the field at fault and its HTTP status."""

from web.errors import WebError


class CrmError(WebError):
    """A CRM change or query was refused; ``field`` names the value at fault."""

    status = 400


class InvalidCustomer(CrmError):
    """A customer's data had problems: ``errors`` lists each as (field, message).

    The first one is the error's own field and message, so the API and the forms answer as
    elsewhere; an importer reads every one for its per-row report.
    """

    def __init__(self, errors):
        self.errors = list(errors)
        field, message = self.errors[0]
        super().__init__(message, field=field)

    def to_dict(self):
        """The JSON error body, with every problem besides the first."""
        return dict(super().to_dict(), errors=[{"field": field, "error": message}
                                               for field, message in self.errors])


class NotFound(CrmError):
    """No customer, phone, note or custom field has that id."""

    status = 404


class Conflict(CrmError):
    """The value is taken (a card number, a field key) or the record's state forbids it."""

    status = 409
