"""The XML-dialplan stand-in: per context, destination-number regexes mapped to actions."""

import re
import time

_VAR = re.compile(r"\$\{([^}]+)\}")


def default_dialplan(socket_target):
    """Every number in `public` goes to the engine's outbound socket; `default` has test extensions."""
    return {
        "public": [{
            "name": "fs_cc_inbound", "match": r"^(.+)$",
            "inline": [["set", "outside_call=true"], ["export", "RFC2822_DATE=${RFC2822_DATE}"],
                       ["set", "fs_cc_did=${destination_number}"]],
            "actions": [["socket", "%s async full" % socket_target]],
        }],
        "default": [
            {"name": "echo", "match": r"^9196$", "actions": [["answer", ""], ["echo", ""]]},
            {"name": "moh", "match": r"^9664$",
             "actions": [["answer", ""], ["playback", "local_stream://moh"]]},
            {"name": "park", "match": r"^park$", "actions": [["park", ""]]},
            {"name": "local_extension", "match": r"^(1[0-9]{3})$",
             "actions": [["set", "call_timeout=30"], ["bridge", "user/$1"]]},
        ],
    }


def expand(text, channel, groups=()):
    """Expand ${var} from the channel and $1..$9 from the regex match."""
    def var(match):
        name = match.group(1)
        if name == "destination_number":
            return channel.profile.destination_number
        if name == "caller_id_number":
            return channel.profile.caller_id_number
        if name == "RFC2822_DATE":
            return time.strftime("%a, %d %b %Y %H:%M:%S +0000", time.gmtime())
        return channel.get_var(name, "")
    text = _VAR.sub(var, text)
    for i, group in enumerate(groups, start=1):
        text = text.replace("$%d" % i, group or "")
    return text


class Dialplan:
    """Finds the actions for a destination number in a context."""

    def __init__(self, contexts):
        self._contexts = {
            name: [(re.compile(ext["match"]), ext) for ext in extensions]
            for name, extensions in (contexts or {}).items()
        }

    def hunt(self, channel, destination, context):
        """(inline actions, actions) of the first matching extension, or None."""
        for regex, ext in self._contexts.get(context, ()):
            match = regex.search(destination)
            if match:
                groups = match.groups()
                channel.set_var("DP_MATCH", "ARRAY::%s|:%s" % (match.group(0), groups[0] if groups else ""))
                inline = [(a, expand(arg or "", channel, groups)) for a, arg in ext.get("inline", ())]
                actions = [(a, arg or "", groups) for a, arg in ext.get("actions", ())]
                return inline, actions
        return None
