"""Value rules the services share: each raises the service's own error, naming the field."""


def text(value, field, max_length, *, error, required=False):
    """``value`` as stripped text of at most ``max_length`` characters ("" when None).

    ``error`` is the service's WebError class, raised with the message and ``field``.
    """
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise error(f"{field}: must be a text", field=field)
    value = value.strip()
    if required and not value:
        raise error(f"{field}: required", field=field)
    if len(value) > max_length:
        raise error(f"{field}: at most {max_length} characters", field=field)
    return value
