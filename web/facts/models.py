"""The fact tables: every call event and every agent state change, once per (engine, seq)."""

import enum

import sqlalchemy as sa

from web.extensions import db
from web.types import UTCDateTime


class CallEventFact(db.Model):
    """One call event as the engine encoded it (``fs_cc.events.encode``), stored once."""

    __tablename__ = "call_events"
    __table_args__ = (sa.UniqueConstraint("engine", "seq", name="uq_call_events_engine_seq"),)

    id = sa.Column(sa.Integer, primary_key=True)
    engine = sa.Column(sa.String(64), nullable=False)
    seq = sa.Column(sa.BigInteger, nullable=False)
    call_uuid = sa.Column(sa.String(64), nullable=False, index=True)
    type = sa.Column(sa.String(64), nullable=False)  # fs_cc.events TYPE, e.g. "call.ended"
    ts = sa.Column(UTCDateTime(), nullable=False)
    payload = sa.Column(sa.Text, nullable=False)  # the whole event; fs_cc.events.decode reads it

    def __repr__(self):
        return f"<CallEventFact {self.engine}#{self.seq} {self.type} {self.call_uuid}>"


class AgentChangeKind(enum.Enum):
    """What an agent state change row records."""

    STATUS = "status"  # AgentStatusChanged: old -> new, reason
    LOGIN = "login"  # AgentLoggedIn: queue
    LOGOUT = "logout"  # AgentLoggedOut: queue


class AgentStateChange(db.Model):
    """One agent event (status changed, logged in, logged out), stored once."""

    __tablename__ = "agent_state_changes"
    __table_args__ = (
        sa.UniqueConstraint("engine", "seq", name="uq_agent_state_changes_engine_seq"),)

    id = sa.Column(sa.Integer, primary_key=True)
    engine = sa.Column(sa.String(64), nullable=False)
    seq = sa.Column(sa.BigInteger, nullable=False)
    agent = sa.Column(sa.String(32), nullable=False, index=True)
    kind = sa.Column(
        sa.Enum(AgentChangeKind, name="agent_change_kind", native_enum=False, length=16,
                values_callable=lambda kinds: [kind.value for kind in kinds]),
        nullable=False)
    old = sa.Column(sa.String(16), nullable=True)  # fs_cc.events.AgentState values
    new = sa.Column(sa.String(16), nullable=True)
    queue = sa.Column(sa.String(64), nullable=True)
    reason = sa.Column(sa.Text, nullable=True)
    ts = sa.Column(UTCDateTime(), nullable=False)

    def __repr__(self):
        return f"<AgentStateChange {self.engine}#{self.seq} {self.agent} {self.kind.value}>"
