"""Who may see which live event: every call with ``calls.view_all``, every agent with
``agents.view``, else what concerns the user's own extension."""

import collections

from fs_cc import events

# calls an agent's stream remembers (a call whose end it never heard is forgotten oldest first)
REMEMBERED_CALLS = 1000


class Everything:
    """The view of those who see every call and every agent: every event."""

    def sees(self, event):
        """Always."""
        return True


class OwnView:
    """An agent's view: events about their extension, and the calls offered to them.

    A call is theirs from the moment it is offered to (or answered by) them, with every later
    event of that call, its end included. ``extension`` None (an agent user without a phone)
    sees nothing.
    """

    def __init__(self, extension, remember=REMEMBERED_CALLS, all_calls=False, all_agents=False):
        self.extension = extension
        self.all_calls = all_calls  # calls.view_all without agents.view: every call event
        self.all_agents = all_agents  # agents.view without calls.view_all: every agent event
        self._remember = remember
        self._calls = collections.OrderedDict()  # call_uuid -> None, oldest first

    def sees(self, event):
        """Whether the agent may see ``event`` (learning the calls offered to them)."""
        if self.all_agents and isinstance(event, events.AgentEvent):
            return True
        if self.all_calls and isinstance(event, events.CallEvent):
            return True
        if isinstance(event, events.QueueEvent):  # a queue's figures: the desktop shows them
            return True
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


def scope_for(user):
    """What ``user`` may see live, from their permissions."""
    if user.can("calls.view_all") and user.can("agents.view"):
        return Everything()
    return OwnView(user.extension, all_calls=user.can("calls.view_all"),
                   all_agents=user.can("agents.view"))
