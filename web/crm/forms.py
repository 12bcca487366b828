"""The CRM pages' forms read into the data shape web.crm.rules checks (the JSON API's shape)."""

from web.crm.fields import form_text
from web.crm.models import CUSTOMER_FIELDS

TEXT_BOXES = ("name", "gender", "birthday", "province", "city", "district", "street", "email",
              "company", "card_number", "source", "level", "owner_id")
CHECKBOXES = ("consent_mail", "consent_gifts")


def customer_data(form, definitions):
    """{field: value} of the customer form: phones one a line, tags with commas, ``cf_<key>``
    boxes (checkboxes for a multi-choice) for the custom fields."""
    data = {name: form.get(name, "") for name in TEXT_BOXES}
    data.update((name, name in form) for name in CHECKBOXES)
    data["phones"] = [line.strip() for line in form.get("phones", "").splitlines()
                      if line.strip()]
    data["tags"] = form.get("tags", "")
    custom = {}
    for definition in definitions:
        name = f"cf_{definition.key}"
        custom[definition.key] = (form.getlist(name) if definition.kind == "multi_choice"
                                  else form.get(name, ""))
    data["custom"] = custom
    return data


def customer_values(customer, definitions):
    """What the form shows for a stored customer."""
    values = {name: getattr(customer, name) for name in CUSTOMER_FIELDS}
    values = {name: "" if value is None else value for name, value in values.items()}
    values["phones"] = "\n".join(phone.e164 for phone in customer.phones)
    values["tags"] = ", ".join(customer.tags)
    for definition in definitions:
        value = (customer.custom or {}).get(definition.key)
        values[f"cf_{definition.key}"] = ((value or []) if definition.kind == "multi_choice"
                                          else form_text(definition, value))
    return values


def submitted_values(form, definitions):
    """The form's values as submitted, to show again beside its errors."""
    values = {name: form.get(name, "") for name in TEXT_BOXES + ("phones", "tags")}
    values.update((name, name in form) for name in CHECKBOXES)
    for definition in definitions:
        name = f"cf_{definition.key}"
        values[name] = (form.getlist(name) if definition.kind == "multi_choice"
                        else form.get(name, ""))
    return values


def field_data(form):
    """{label, kind, required, choices, position, active} of the custom field form."""
    return {"key": form.get("key", ""), "label": form.get("label", ""),
            "kind": form.get("kind", ""), "required": "required" in form,
            "choices": form.get("choices", ""), "position": form.get("position") or 0,
            "active": "active" in form}
