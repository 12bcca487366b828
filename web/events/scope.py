"""Who may see which live event: supervising roles everything, an agent what concerns them."""

import collections

from fs_cc import events
from web.auth.models import Role

# calls an agent's stream remembers (a call whose end it never heard is forgotten oldest first)
REMEMBERED_CALLS = 1000


class Everything:
    """The view of admins, managers and supervisors: every event."""

    def sees(self, event):
        """Always."""
        return True


class OwnView:
    """An agent's view: events about their extension, and the calls offered to them.

    A call is theirs from the moment it is offered to (or answered by) them, with every later
    event of that call, its end included. ``extension`` None (an agent user without a phone)
    sees nothing.
    """

    def __init__(self, extension, remember=REMEMBERED_CALLS):
        self.extension = extension
        self._remember = remember
        self._calls = collections.OrderedDict()  # call_uuid -> None, oldest first

    def sees(self, event):
        """Whether the agent may see ``event`` (learning the calls offered to them)."""
        if self.extension is None:
            return False
        if isinstance(event, events.AgentEvent):
            return event.agent == self.extension
        if not isinstance(event, events.CallEvent):
            return False
        if (isinstance(event, (events.OfferedToAgent, events.AnsweredByAgent))
                and event.agent == self.extension):
            self._calls[event.call_uuid] = None
            self._calls.move_to_end(event.call_uuid)
            while len(self._calls) > self._remember:
                self._calls.popitem(last=False)
            return True
        if event.call_uuid not in self._calls:
            return False
        if isinstance(event, events.CallEnded):
            del self._calls[event.call_uuid]
        return True


SEE_EVERYTHING = (Role.ADMIN, Role.MANAGER, Role.SUPERVISOR)


def scope_for(user):
    """What ``user`` may see live (a role not named here sees only their own, like an agent)."""
    if user.has_role(*SEE_EVERYTHING):
        return Everything()
    return OwnView(user.extension)
