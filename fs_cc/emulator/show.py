"""`show channels` and `show calls` as mod_commands prints them from its core database.

`show calls` selects from the `basic_calls` view: one row per channel that is not the callee of a
bridge, with the bridged callee's columns under `b_*`. CSV output is the header line, the rows, a
blank line and `N total.`; `as json` gives `{"row_count":N,"rows":[...]}` (the empty form is the
recorded `{"row_count": 0}`).
"""

import json
import time

BASIC_CALL_A = ("uuid", "direction", "created", "created_epoch", "name", "state", "cid_name", "cid_num",
                "ip_addr", "dest", "presence_id", "presence_data", "accountcode", "callstate",
                "callee_name", "callee_num", "callee_direction", "call_uuid", "hostname",
                "sent_callee_name", "sent_callee_num")
BASIC_CALL_B = ("uuid", "direction", "created", "created_epoch", "name", "state", "cid_name", "cid_num",
                "ip_addr", "dest", "presence_id", "presence_data", "accountcode", "callstate",
                "callee_name", "callee_num", "callee_direction", "sent_callee_name", "sent_callee_num")


def channel_row(switch, channel):
    """One row of the `channels` table."""
    profile = channel.profile
    return {
        "uuid": channel.uuid, "direction": channel.direction,
        "created": time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(channel.created_epoch)),
        "created_epoch": str(channel.created_epoch), "name": channel.name,
        "state": (channel.db_state or channel.state).name, "cid_name": profile.caller_id_name,
        "cid_num": profile.caller_id_number, "ip_addr": "",
        "dest": profile.destination_number, "application": channel.application,
        "application_data": channel.application_data, "dialplan": "xml",
        "context": profile.context, "read_codec": "L16", "read_rate": "8000",
        "read_bit_rate": "128000", "write_codec": "L16", "write_rate": "8000",
        "write_bit_rate": "128000", "secure": "", "hostname": switch.hostname,
        "presence_id": "", "presence_data": "", "accountcode": "",
        "callstate": (channel.db_call_state or channel.call_state).name,
        "callee_name": profile.callee_id_name,
        "callee_num": profile.callee_id_number, "callee_direction": "",
        "call_uuid": channel.call_uuid, "sent_callee_name": "", "sent_callee_num": "",
        "initial_cid_name": profile.orig_caller_id_name,
        "initial_cid_num": profile.orig_caller_id_number, "initial_ip_addr": "",
        "initial_dest": profile.destination_number, "initial_dialplan": "xml",
        "initial_context": profile.context,
    }


def _callee(switch, channel):
    """The B-leg when this channel originated a bridge (the `calls` table's caller_uuid)."""
    if channel.bridged_to and channel.other_type == "originatee":
        return switch.channels.get(channel.bridged_to)
    return None


def _is_callee(channel):
    return bool(channel.bridged_to) and channel.other_type == "originator"


def call_rows(switch):
    """Rows of the `basic_calls` view."""
    rows = []
    for channel in sorted(switch.channels.values(), key=lambda c: c.profile.created):
        if _is_callee(channel):
            continue
        a_row = channel_row(switch, channel)
        row = {key: a_row[key] for key in BASIC_CALL_A}
        b_leg = _callee(switch, channel)
        b_row = channel_row(switch, b_leg) if b_leg is not None else {}
        for key in BASIC_CALL_B:
            row["b_" + key] = b_row.get(key, "")
        row["call_created_epoch"] = str(channel.profile.bridged // 1_000_000) if b_leg is not None else ""
        rows.append(row)
    # `order by call_created_epoch`: the rows without a call (an empty value) come first
    return sorted(rows, key=lambda r: r["call_created_epoch"])


def show(switch, args):
    """show channels|calls [as json] (show_function in mod_commands.c)."""
    words = args.split()
    what = words[0].lower() if words else ""
    as_json = len(words) >= 3 and words[-2].lower() == "as" and words[-1].lower() == "json"
    if what == "calls":
        rows = call_rows(switch)
    elif what == "channels":
        rows = [channel_row(switch, c) for c in sorted(switch.channels.values(), key=lambda c: c.profile.created)]
    else:
        return "-USAGE: codec|endpoint|application|api|dialplan|file|timer|calls [count]|channels [count|like <match string>]|calls|detailed_calls|bridged_calls|detailed_bridged_calls|aliases|complete|chat|management|modules|nat_map|say|interfaces|interface_types|tasks|limits|status\n"
    if as_json:
        if not rows:
            return '{"row_count": 0}\n'
        return json.dumps({"row_count": len(rows), "rows": rows}, separators=(",", ":")) + "\n"
    if not rows:
        return "\n0 total.\n"
    keys = list(rows[0].keys())
    lines = [",".join(keys)] + [",".join(str(r[k]) for k in keys) for r in rows]
    return "\n".join(lines) + "\n\n%d total.\n" % len(rows)
