"""Value rules shared by the account and role services; each raises AccountError naming the field."""

from web.users.errors import AccountError


def known(data, fields):
    """Refuse a key of ``data`` that is not among ``fields``."""
    unknown = sorted(set(data) - set(fields))
    if unknown:
        raise AccountError(f"{unknown[0]}: unknown field", field=unknown[0])


def text(value, field, max_length, required=False):
    """``value`` as stripped text of at most ``max_length`` characters ("" when None)."""
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise AccountError(f"{field}: must be text", field=field)
    value = value.strip()
    if required and not value:
        raise AccountError(f"{field}: required", field=field)
    if len(value) > max_length:
        raise AccountError(f"{field}: longer than {max_length} characters", field=field)
    return value
