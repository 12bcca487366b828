"""mod_conference basics: the `conference` app, member ids, the maintenance events and the api.

Texts follow conference_api.c (conference_api_main_real, conference_api_sub_list, _kick, _mute,
_unmute, _hup) and conference_list's member line `id;name;uuid;cid_name;cid_num;flags;vol_in;agc;
vol_out;energy`. Member ids come from one switch-wide counter, as in mod_conference.
"""

import itertools
import logging
import uuid as uuidlib

from fs_cc.emulator.channel import WakeReason

logger = logging.getLogger(__name__)

MAINTENANCE = "conference::maintenance"


class Member:
    """One channel in a conference room."""

    def __init__(self, member_id, channel):
        self.id = member_id
        self.channel = channel
        self.can_speak = True
        self.kicked = False


class Room:
    """A conference room, created by its first member and destroyed with its last."""

    def __init__(self, name, profile):
        self.name = name
        self.profile = profile
        self.uuid = str(uuidlib.uuid4())
        self.members = []


class Conferences:
    """Every room of the switch, the `conference` app and the `conference` api."""

    def __init__(self, switch):
        self.switch = switch
        self.rooms = {}
        self._ids = itertools.count(1)

    # -- events ----------------------------------------------------------------------------
    def _room_headers(self, room):
        return [("Conference-Name", room.name), ("Conference-Domain", self.switch.global_vars["domain"]),
                ("Conference-Size", len(room.members)), ("Conference-Ghosts", "0"),
                ("Conference-Profile-Name", room.profile), ("Conference-Unique-ID", room.uuid)]

    def _fire_room(self, room, action):
        factory = self.switch.factory
        self.switch.fire(factory.simple("CUSTOM", self._room_headers(room) + [("Action", action)],
                                        subclass=MAINTENANCE))

    def _fire_member(self, room, member, action):
        floor = bool(room.members) and room.members[0] is member
        extra = self._room_headers(room) + [
            ("Floor", str(floor).lower()), ("Video", "false"), ("Hear", "true"), ("See", "true"),
            ("Speak", str(member.can_speak).lower()), ("Talking", "false"), ("Mute-Detect", "false"),
            ("Member-ID", member.id), ("Member-Type", "member"), ("Member-Ghost", "false"),
            ("Energy-Level", "100"), ("Current-Energy", "0"), ("Action", action)]
        self.switch.fire(self.switch.factory.custom_channel(MAINTENANCE, member.channel, extra))

    # -- the application -------------------------------------------------------------------
    def run(self, channel, arg):
        """conference <name>[@profile][+flags]: join until hangup, kick or transfer."""
        spec = arg.strip().split("+")[0]
        name, _, profile = spec.partition("@")
        if not name:
            logger.error("%s: conference needs a name", channel.uuid)
            return None
        if channel.answer_state != "answered":
            channel.answer()
        room = self.rooms.get(name)
        if room is None:
            room = self.rooms[name] = Room(name, profile or "default")
            self._fire_room(room, "conference-create")
        member = Member(next(self._ids), channel)
        room.members.append(member)
        for key, value in (("conference_name", name), ("conference_uuid", room.uuid),
                           ("conference_member_id", member.id)):
            channel.set_var(key, value)
        self._fire_member(room, member, "add-member")
        while not channel.hungup and not member.kicked:
            if channel.wait(any_signal=True) in (WakeReason.HANGUP, WakeReason.TAKEOVER):
                break
        self._fire_member(room, member, "del-member")
        room.members.remove(member)
        if not room.members:
            self.rooms.pop(name, None)
            self._fire_room(room, "conference-destroy")
        return None

    # -- the api ---------------------------------------------------------------------------
    def api(self, args):
        """conference list | <name> list [count] | <name> kick|hup|mute|unmute <id|all|last>."""
        words = args.split()
        if not words:
            return "-ERR no command\n"
        room = self.rooms.get(words[0])
        if room is None:
            if words[0].lower() == "list":
                return self._list_all()
            return "Conference %s not found\n" % words[0]
        if len(words) < 2:
            return "Conference command, not specified.\nTry 'help'\n"
        command = words[1].lower()
        if command == "list" and len(words) > 2 and words[2].lower() == "count":
            return "%d" % len(room.members)  # conference_api_sub_list: no newline (29_three_way)
        if command == "list":
            return "".join(self._member_line(room, m) for m in reversed(room.members))
        actions = {"kick": self._kick, "hup": self._hup, "mute": self._mute, "unmute": self._unmute}
        if command not in actions:
            return "-ERR Unknown command\n"
        if len(words) < 3:
            return "%s <[member_id|all|last|non_moderator]> [<optional sound file>]\n" % command
        target = words[2].lower()
        if target == "all":
            members = list(room.members)
        elif target == "last":
            members = room.members[-1:]
        else:
            members = [m for m in room.members if str(m.id) == target]
            if not members:
                return "Non-Existant ID %s\n" % target
        return "".join(actions[command](room, m) for m in members)

    def _kick(self, room, member):
        member.kicked = True
        self._fire_member(room, member, "kick-member")
        member.channel.wake()
        return "OK kicked %u\n" % member.id

    def _hup(self, room, member):
        member.kicked = True
        self._fire_member(room, member, "hup-member")
        member.channel.hangup("NORMAL_CLEARING")
        return "OK hup %u\n" % member.id

    def _mute(self, room, member):
        member.can_speak = False
        self._fire_member(room, member, "mute-member")
        return "OK mute %u\n" % member.id

    def _unmute(self, room, member):
        member.can_speak = True
        self._fire_member(room, member, "unmute-member")
        return "OK unmute %u\n" % member.id

    def _list_all(self):
        if not self.rooms:
            return "No active conferences.\n"
        out = []
        for room in self.rooms.values():
            count = len(room.members)
            out.append("Conference %s (%u member%s rate: 8000 flags: running|answered|dynamic|exit_sound|"
                       "enter_sound)\n" % (room.name, count, "" if count == 1 else "s"))
            out += [self._member_line(room, m) for m in reversed(room.members)]
        return "".join(out)

    @staticmethod
    def _member_line(room, member):
        channel = member.channel
        flags = ["hear"] + (["speak"] if member.can_speak else [])
        if room.members and room.members[0] is member:
            flags.append("floor")
        return "%u;%s;%s;%s;%s;%s;0;0;0;100\n" % (
            member.id, channel.name, channel.uuid, channel.profile.caller_id_name,
            channel.profile.caller_id_number, "|".join(flags))
