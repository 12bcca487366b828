"""The agent desktop's work: the screen pop, the agent's moves, wrap-up with a disposition, drafts.

The desktop is the agent's own: every call it speaks of must be one the engine offered to the
agent's extension or that the agent answered, and every move names the agent's own extension.
The engine is asked through the control interface (fs_cc.control.engines.EngineRouter); the
database keeps what the agent filed (``CallDisposition``) and what they are still typing
(``DesktopDraft``), so a reload or a lost connection loses nothing.

A call the agent answered is *owed* a disposition until one is filed, when its queue lists any
(``dispositions``; fs_cc.acd.queue_def's defaults when the queue does not say): the agent cannot
go available, nor end wrap-up, while one is owed from the last ``OWED_HOURS``.
"""

import datetime
import logging

import sqlalchemy as sa

from fs_cc.acd.queue_def import DEFAULT_DISPOSITIONS
from fs_cc import codec
from fs_cc.control import ControlRefused, ControlUnavailable, commands
from fs_cc.events import TransferKind
from web.calls.models import CallRecord
from web.catalog.models import DidRoute, Queue
from web.crm.history import customer_for_number
from web.crm.models import Customer, CustomerPhone
from web.desktop.models import CallDisposition, DesktopDraft
from web.ivr.models import IvrFlow
from web.errors import WebError, engine_refusal
from web.types import iso, utcnow

logger = logging.getLogger(__name__)

OWED_HOURS = 12
NOTES_MAX = 4000
READY = "available"


class DesktopError(WebError):
    """A desktop request was refused; ``field`` names what is at fault."""

    status = 400


def _engine_error(exc):
    return engine_refusal(exc, DesktopError)


class Desktop:
    """One agent's desktop: ``user`` (a web.auth user with an extension) on ``session``.

    ``control`` is the app's EngineRouter; ``lookup`` turns a Lookup into the JSON the user may
    see (web.crm.masking.masked_lookup with the user's PhoneVisibility); ``region`` is the CRM's
    default region of phone numbers.
    """

    def __init__(self, session, control, user, region, lookup):
        self.session = session
        self.control = control
        self.user = user
        self.region = region
        self._lookup = lookup
        if not user.extension:
            raise DesktopError("extension: your account has no extension; an admin gives "
                               "you one on the Users page", field="extension", status=409)
        self.extension = user.extension

    # -- the engine ------------------------------------------------------------------------

    def _ask(self, read):
        try:
            return read()
        except (ControlUnavailable, ControlRefused) as exc:
            raise _engine_error(exc) from None

    def _execute(self, command):
        return self._ask(lambda: self.control.execute(command))

    def agent(self):
        """The agent's live state (fs_cc.control.commands.AgentView), or None if not one."""
        agents = self._ask(self.control.agents)
        return next((agent for agent in agents if agent["extension"] == self.extension), None)

    def state(self):
        """What the desktop shows: the agent, the queues (theirs first), the IVR flows a caller
        can be transferred into, calls owed."""
        agent = self.agent()
        mine = set(agent["queues"]) if agent else set()
        queues = sorted(self._ask(self.control.queues),
                        key=lambda queue: (queue["name"] not in mine, queue["name"]))
        return {"extension": self.extension, "agent": agent,
                "queues": [dict(queue, member=queue["name"] in mine) for queue in queues],
                "flows": self.flows(), "owed": self.owed()}

    def flows(self):
        """The names of the IVR flows engines run: those with versions, those numbers route to."""
        stored = self.session.execute(sa.select(IvrFlow.name)).scalars()
        routed = self.session.execute(sa.select(DidRoute.flow).where(
            DidRoute.enabled == sa.true())).scalars()
        return sorted(set(stored) | set(routed))

    def set_status(self, status, reason=""):
        """Move the agent (``available``, ``not_ready`` with a reason...); the agent after."""
        status = str(status or "").strip()
        if not status:
            raise DesktopError("status: choose a status", field="status")
        if status == READY:
            self._refuse_if_owed("going available")
        return self._execute(commands.SetAgentStatus(agent=self.extension, status=status,
                                                     reason=str(reason or "").strip()))

    def login(self, queue):
        """Log the agent in to ``queue``."""
        return self._execute(commands.AgentLogin(agent=self.extension, queue=_name(queue)))

    def logout(self, queue):
        """Log the agent out of ``queue``."""
        return self._execute(commands.AgentLogout(agent=self.extension, queue=_name(queue)))

    def end_wrap_up(self):
        """End wrap-up early: refused while a call waits for its disposition."""
        self._refuse_if_owed("ending wrap-up")
        return self._execute(commands.EndWrapUp(agent=self.extension))

    # -- call controls (the call must be the agent's own, connected to them) -----------------

    def _own_connected(self, call_uuid):
        context = self.call(call_uuid)
        if context.get("agent") != self.extension or context.get("state") == "ended":
            raise DesktopError(f"call: call {call_uuid!r} is not connected to you", field="call",
                               status=409)
        return context

    def hold(self, call_uuid):
        """Put the agent's caller on hold music."""
        self._own_connected(call_uuid)
        return self._execute(commands.HoldCall(call_uuid=call_uuid, by_agent=self.extension))

    def unhold(self, call_uuid):
        """Take the agent's caller off hold."""
        self._own_connected(call_uuid)
        return self._execute(commands.UnholdCall(call_uuid=call_uuid, by_agent=self.extension))

    def mute(self, call_uuid):
        """Mute the agent's microphone towards the caller."""
        self._own_connected(call_uuid)
        return self._execute(commands.MuteCall(call_uuid=call_uuid, by_agent=self.extension))

    def unmute(self, call_uuid):
        """Let the caller hear the agent again."""
        self._own_connected(call_uuid)
        return self._execute(commands.UnmuteCall(call_uuid=call_uuid, by_agent=self.extension))

    def dial(self, number, phone_id=None):
        """Click-to-dial: the agent's phone rings, then ``number`` (digits, +, * and #), or the
        customer's phone ``phone_id`` (its number, which the user may not see, stays here)."""
        if phone_id is not None:
            if number:
                raise DesktopError("number: give the number or phone_id, not both", field="number")
            return self._dial_phone(phone_id)
        number = str(number or "").strip()
        if not number:
            raise DesktopError("number: type the number to call", field="number")
        try:
            command = commands.DialNumber(agent=self.extension, number=number)
        except codec.FieldError as exc:
            raise DesktopError(f"number: {exc.message}", field="number") from None
        return self._execute(command)

    def _dial_phone(self, phone_id):
        phone = self.session.get(CustomerPhone, phone_id) if type(phone_id) is int else None
        if phone is None or phone.customer is None or phone.customer.deleted:
            raise DesktopError(f"phone_id: no customer phone {phone_id!r}", field="phone_id",
                               status=404)
        result = self._execute(commands.DialNumber(agent=self.extension, number=phone.digits))
        return {key: value for key, value in result.items() if key != "number"}

    def send_dtmf(self, call_uuid, digits):
        """Send DTMF digits to the caller's leg (an outside IVR the agent dialled...)."""
        self._own_connected(call_uuid)
        digits = str(digits or "").strip().upper()
        try:
            command = commands.SendDtmf(call_uuid=call_uuid, digits=digits,
                                        by_agent=self.extension)
        except codec.FieldError as exc:
            raise DesktopError(f"digits: {exc.message}", field="digits") from None
        return self._execute(command)

    def transfer(self, call_uuid, kind, target):
        """Blind transfer of the agent's caller to an agent, a queue, an IVR flow or a number."""
        self._own_connected(call_uuid)
        try:
            kind = TransferKind(str(kind or ""))
        except ValueError:
            raise DesktopError("kind: one of " + ", ".join(k.value for k in TransferKind),
                               field="kind") from None
        target = str(target or "").strip()
        if not target:
            raise DesktopError("target: name where the call goes", field="target")
        if kind is TransferKind.AGENT and target == self.extension:
            raise DesktopError("target: that is your own extension", field="target")
        return self._execute(commands.TransferCall(call_uuid=call_uuid, target_kind=kind,
                                                   target=target, by_agent=self.extension))

    def consult(self, call_uuid, kind, target):
        """Consult transfer: the caller aside on music, an agent or a number rung first."""
        self._own_connected(call_uuid)
        kind = str(kind or "")
        if kind not in (TransferKind.AGENT.value, TransferKind.NUMBER.value):
            raise DesktopError("kind: agent or number", field="kind")
        target = str(target or "").strip()
        if not target:
            raise DesktopError("target: name who to consult", field="target")
        if kind == TransferKind.AGENT.value and target == self.extension:
            raise DesktopError("target: that is your own extension", field="target")
        return self._execute(commands.ConsultCall(call_uuid=call_uuid,
                                                  target_kind=TransferKind(kind), target=target,
                                                  by_agent=self.extension))

    def complete_consult(self, call_uuid):
        """Hand the caller to the consulted party."""
        self._own_connected(call_uuid)
        return self._execute(commands.CompleteConsult(call_uuid=call_uuid,
                                                      by_agent=self.extension))

    def cancel_consult(self, call_uuid):
        """Drop the consulted party and go back to the caller."""
        self._own_connected(call_uuid)
        return self._execute(commands.CancelConsult(call_uuid=call_uuid,
                                                    by_agent=self.extension))

    def conference(self, call_uuid):
        """Three-way: the caller, the agent and the consulted party in one conference."""
        self._own_connected(call_uuid)
        return self._execute(commands.ConferenceCall(call_uuid=call_uuid,
                                                     by_agent=self.extension))

    # -- the screen pop ----------------------------------------------------------------------

    def call(self, call_uuid):
        """The engine's context of a call offered to or served by this agent (404 otherwise)."""
        call_uuid = str(call_uuid or "").strip()
        try:
            context = self.control.call(call_uuid)
        except ControlUnavailable as exc:
            raise _engine_error(exc) from None
        except ControlRefused as exc:
            if exc.status != 404:
                raise _engine_error(exc) from None
            context = None
        if context is None or self.extension not in (context.get("offered_to"),
                                                     context.get("agent")):
            raise DesktopError(f"call: no call {call_uuid!r} of yours is known to the engine",
                               field="call", status=404)
        return context

    def pop(self, call_uuid):
        """The screen pop of a call: the engine's context, the caller's CRM record (or None:
        a new caller), their last contacts, the queue's dispositions and the agent's draft.

        A call the engine no longer knows (it restarted, or forgot it long after its end) is
        shown from its stored record when this agent answered it, so wrap-up can go on.
        """
        try:
            context = self.call(call_uuid)
        except DesktopError as exc:
            context = self._stored_context(call_uuid) if exc.status == 404 else None
            if context is None:
                raise
        found = customer_for_number(self.session, context.get("caller"), self.region)
        draft = self._draft(call_uuid)
        return {"call": context,
                "known": found is not None,
                "lookup": self._lookup(found) if found is not None else None,
                "new_caller": None if found is not None else {"phones": [context.get("caller")]},
                "dispositions": list(self.dispositions(context.get("queue"))),
                "draft": draft.to_dict() if draft is not None else None,
                "filed": _filed(self.session, call_uuid, self.extension)}

    def _stored_context(self, call_uuid):
        record = self.session.execute(sa.select(CallRecord).where(
            CallRecord.uuid == call_uuid, CallRecord.agent == self.extension)
        ).scalar_one_or_none()
        if record is None:
            return None
        path, inputs = [], []
        for step in record.ivr_path:  # the journal's path: nodes, and "menu:1" for their keys
            node, _, key = step.partition(":")
            if not key:
                path.append(node)
            elif key in ("timeout", "invalid"):
                inputs.append({"node": node, "input": None, "result": key})
            else:
                inputs.append({"node": node, "input": key, "result": "option"})
        return {"uuid": record.uuid, "caller": record.caller_number, "caller_name": "",
                "did": record.did, "state": "ended", "queue": record.queue,
                "agent": record.agent, "offered_to": record.agent,
                "started_at": iso(record.started_at), "queued_at": iso(record.queued_at),
                "waited": record.wait_seconds,
                "ivr": {"flow": record.flow, "path": path, "inputs": inputs},
                "origin": "stored"}

    def dispositions(self, queue_name):
        """What a call of ``queue_name`` may be filed as (the defaults for no queue)."""
        if not queue_name:
            return DEFAULT_DISPOSITIONS
        queue = self.session.execute(sa.select(Queue).where(Queue.name == queue_name)
                                     ).scalar_one_or_none()
        if queue is None or queue.dispositions is None:
            return DEFAULT_DISPOSITIONS
        return tuple(queue.dispositions)

    # -- wrap-up -----------------------------------------------------------------------------

    def _draft(self, call_uuid):
        return self.session.execute(sa.select(DesktopDraft).where(
            DesktopDraft.user_id == self.user.id, DesktopDraft.call_uuid == call_uuid)
        ).scalar_one_or_none()

    def save_draft(self, call_uuid, data):
        """Keep what the agent typed so far (disposition, notes, customer_id); the draft.

        A draft marks its call as owed a disposition even before the call's record is stored.
        """
        disposition, notes, customer_id = _wrap_up_fields(data, required=False)
        draft = self._draft(call_uuid)
        if draft is None:
            self._served_queue(call_uuid)  # only a call the agent answered
            draft = DesktopDraft(user_id=self.user.id, call_uuid=call_uuid)
            self.session.add(draft)
        draft.disposition, draft.notes, draft.customer_id = disposition, notes, customer_id
        draft.updated_at = utcnow()
        self.session.commit()
        return draft

    def file(self, call_uuid, data):
        """File the call: a disposition of its queue's list (required), notes, the customer.

        The agent's draft of it goes; filing again changes what was filed.
        """
        queue = self._served_queue(call_uuid)
        disposition, notes, customer_id = _wrap_up_fields(data, required=True)
        allowed = self.dispositions(queue)
        chosen = next((label for label in allowed if label.casefold() == disposition.casefold()),
                      None)
        if chosen is None:
            raise DesktopError(f"disposition: {disposition!r} is not one of this queue's: "
                               + ", ".join(allowed), field="disposition")
        if customer_id is not None and self.session.get(Customer, customer_id) is None:
            raise DesktopError(f"customer_id: no customer {customer_id}", field="customer_id")
        row = self.session.execute(sa.select(CallDisposition).where(
            CallDisposition.call_uuid == call_uuid, CallDisposition.agent == self.extension)
        ).scalar_one_or_none()
        if row is None:
            row = CallDisposition(call_uuid=call_uuid, agent=self.extension)
            self.session.add(row)
        row.username, row.queue = self.user.username, queue
        row.disposition, row.notes, row.customer_id = chosen, notes, customer_id
        row.updated_at = utcnow()
        draft = self._draft(call_uuid)
        if draft is not None:
            self.session.delete(draft)
        self.session.commit()
        self._filed_to_engine(call_uuid)
        return row

    def _filed_to_engine(self, call_uuid):
        # the engine keeps the agent in wrap-up while a disposition is owed (fs_cc.acd.presence);
        # what was filed is stored either way, an engine that did not hear it is only logged
        try:
            self.control.execute(commands.DispositionFiled(agent=self.extension,
                                                           call_uuid=call_uuid))
        except (ControlUnavailable, ControlRefused) as exc:
            logger.warning("agent %s filed call %s; the engine was not told: %s",
                           self.extension, call_uuid, exc)

    def _served_queue(self, call_uuid):
        """The queue of a call this agent answered (engine first, then the stored record)."""
        call_uuid = str(call_uuid or "").strip()
        try:
            context = self.call(call_uuid)
        except DesktopError as exc:
            if exc.status != 404:
                raise
            context = None
        if context is not None and context.get("agent") == self.extension:
            return context.get("queue")
        record = self.session.execute(sa.select(CallRecord).where(
            CallRecord.uuid == call_uuid, CallRecord.agent == self.extension)
        ).scalar_one_or_none()
        if record is None:
            raise DesktopError(f"call: you did not answer a call {call_uuid!r}", field="call",
                               status=404)
        return record.queue

    def owed(self):
        """Calls this agent answered lately that still wait for their disposition, oldest first."""
        since = utcnow() - datetime.timedelta(hours=OWED_HOURS)
        filed = sa.select(CallDisposition.id).where(
            CallDisposition.call_uuid == CallRecord.uuid,
            CallDisposition.agent == self.extension)
        rows = self.session.execute(
            sa.select(CallRecord).where(CallRecord.agent == self.extension,
                                        CallRecord.answered_at.is_not(None),
                                        CallRecord.started_at >= since, ~filed.exists())
            .order_by(CallRecord.started_at)).scalars().all()
        asks = {queue: bool(self.dispositions(queue)) for queue in {row.queue for row in rows}}
        owed = {row.uuid: {"call_uuid": row.uuid, "caller": row.caller_number,
                           "queue": row.queue, "started_at": row.started_at.isoformat()}
                for row in rows if asks[row.queue]}
        # calls the page saw answered: their record may not be stored yet
        drafted = sa.select(CallDisposition.id).where(
            CallDisposition.call_uuid == DesktopDraft.call_uuid,
            CallDisposition.agent == self.extension)
        for call_uuid in self.session.execute(sa.select(DesktopDraft.call_uuid).where(
                DesktopDraft.user_id == self.user.id, ~drafted.exists())).scalars():
            owed.setdefault(call_uuid, {"call_uuid": call_uuid, "caller": None, "queue": None,
                                        "started_at": None})
        return list(owed.values())

    def _refuse_if_owed(self, what):
        owed = self.owed()
        if owed:
            first = owed[0]
            caller = f" from {first['caller']}" if first.get("caller") else ""
            raise DesktopError(f"disposition: file the call{caller} before {what} "
                               f"({len(owed)} waiting)", field="disposition", status=409)


def _filed(session, call_uuid, extension):
    row = session.execute(sa.select(CallDisposition).where(
        CallDisposition.call_uuid == call_uuid, CallDisposition.agent == extension)
    ).scalar_one_or_none()
    return row.to_dict() if row is not None else None


def _name(queue):
    queue = str(queue or "").strip()
    if not queue:
        raise DesktopError("queue: name a queue", field="queue")
    return queue


def _wrap_up_fields(data, required):
    if not isinstance(data, dict):
        raise DesktopError("the body must be a JSON object", field=None)
    disposition = data.get("disposition") or ""
    notes = data.get("notes") or ""
    customer_id = data.get("customer_id")
    if not isinstance(disposition, str):
        raise DesktopError("disposition: must be text", field="disposition")
    if not isinstance(notes, str):
        raise DesktopError("notes: must be text", field="notes")
    disposition, notes = disposition.strip(), notes.strip()
    if required and not disposition:
        raise DesktopError("disposition: choose how the call ends up filed",
                           field="disposition")
    if len(notes) > NOTES_MAX:
        raise DesktopError(f"notes: {len(notes)} characters; at most {NOTES_MAX}",
                           field="notes")
    if customer_id is not None and (isinstance(customer_id, bool)
                                    or not isinstance(customer_id, int)):
        raise DesktopError("customer_id: must be a customer's id", field="customer_id")
    return disposition, notes, customer_id
