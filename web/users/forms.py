"""The user and role forms, read into the shapes the account and role services take."""


def user_data(form, creating):
    """{username?, display_name, role, extension, queues, active?} from the user form.

    Each queue is a checkbox ``queues`` whose value is the queue's name.
    """
    data = {"display_name": form.get("display_name", ""), "role": form.get("role", ""),
            "extension": form.get("extension", ""), "queues": form.getlist("queues")}
    if creating:
        data["username"] = form.get("username", "")
    else:
        data["active"] = "active" in form
    return data


def role_data(form):
    """{name, description, permissions} from the role form (a ``permissions`` checkbox each)."""
    return {"name": form.get("name", ""), "description": form.get("description", ""),
            "permissions": form.getlist("permissions")}
