"""Who may message whom, messages sent and read, notices posted and acknowledged, and what is
new for a user since a stream cursor.

A user may message the members and supervisors of the team they work in, and the members and
supervisors of each team they supervise. A supervisor posts notices to the teams they lead; a
user holding ``teams.manage`` posts to any team or to everyone.
"""

import dataclasses
import datetime

import sqlalchemy as sa

from web import fields
from web.auth.models import User
from web.chat.models import ChatMessage, Notice, NoticeAck
from web.errors import Forbidden, WebError
from web.timezone import display_timezone
from web.types import utcnow

BODY_LENGTH = 2000
TITLE_LENGTH = 200
NOTICE_LENGTH = 4000
CONVERSATION_LIMIT = 200
EVERYONE = "teams.manage"  # the permission to post to every team, or to everyone


class ChatError(WebError):
    """A message or notice request was refused; ``field`` names what is at fault."""

    status = 400


def _text(value, field, limit, required=True):
    return fields.text(value, field, limit, error=ChatError, required=required)


@dataclasses.dataclass(frozen=True)
class Cursor:
    """How far a stream has gone: the last message id and the last notice id it sent."""

    message: int = 0
    notice: int = 0

    def __str__(self):
        return f"{self.message}.{self.notice}"

    @classmethod
    def parse(cls, text, field):
        """The cursor ``text`` ("12.3"); ChatError naming ``field`` when it is not one."""
        message, dot, notice = str(text).strip().partition(".")
        if not (dot and message.isdigit() and notice.isdigit()):
            raise ChatError(f"{field}: not a stream position (two numbers, as 12.3)",
                            field=field)
        return cls(int(message), int(notice))


class Chat:
    """The messages and notices of ``user``, with ``teams`` (a TeamService) to tell who is who."""

    def __init__(self, session, teams, user, clock=utcnow):
        self.session = session
        self.teams = teams
        self.user = user
        self.clock = clock

    # who

    def contacts(self):
        """The active users ``user`` may message, by username."""
        found = {}
        for team in self.teams.teams_of(self.user):
            for person in team.members + team.supervisors:
                found[person.id] = person
        found.pop(self.user.id, None)
        return sorted((person for person in found.values() if person.active),
                      key=lambda person: person.username)

    def _team_ids(self):
        return [team.id for team in self.teams.teams_of(self.user)]

    # messages

    def send(self, to, body):
        """Send ``body`` to the user called ``to``: 400 naming the field, 403 for someone the
        user may not message."""
        to = _text(to, "to", 64)
        body = _text(body, "body", BODY_LENGTH)
        recipient = self.session.execute(
            sa.select(User).where(User.username == to)).scalar_one_or_none()
        if recipient is None or not recipient.active:
            raise ChatError(f"to: no user called {to}", field="to")
        if recipient.id not in {person.id for person in self.contacts()}:
            raise Forbidden(f"to: {to} is not in your team nor one of its supervisors",
                            field="to")
        message = ChatMessage(sender=self.user, recipient=recipient, body=body,
                              created_at=self.clock())
        self.session.add(message)
        self.session.commit()
        return message

    def _mine(self):
        return sa.or_(ChatMessage.sender_id == self.user.id,
                      ChatMessage.recipient_id == self.user.id)

    def conversations(self):
        """Per person: the last message and how many of theirs are unread; every contact is
        listed, messages or not, then anyone else who wrote (newest first)."""
        rows = self.session.execute(
            sa.select(ChatMessage).where(self._mine()).order_by(ChatMessage.id.desc())
            .limit(1000)).scalars().all()
        talks = {}
        for message in rows:
            other = message.recipient if message.sender_id == self.user.id else message.sender
            talk = talks.setdefault(other.id, {"with": other, "last": message, "unread": 0})
            if message.recipient_id == self.user.id and message.read_at is None:
                talk["unread"] += 1
        for person in self.contacts():
            talks.setdefault(person.id, {"with": person, "last": None, "unread": 0})
        ordered = sorted(talks.values(), key=lambda talk: (
            talk["last"] is None, -(talk["last"].id if talk["last"] else 0),
            talk["with"].username))
        return [{"with": {"username": talk["with"].username,
                          "display_name": talk["with"].display_name or talk["with"].username},
                 "last": talk["last"].to_dict() if talk["last"] else None,
                 "unread": talk["unread"]} for talk in ordered]

    def conversation(self, username):
        """The last messages between ``user`` and the user called ``username``, oldest first."""
        other = self.session.execute(
            sa.select(User).where(User.username == username)).scalar_one_or_none()
        if other is None:
            raise ChatError(f"with: no user called {username}", field="with")
        pair = sa.or_(sa.and_(ChatMessage.sender_id == self.user.id,
                              ChatMessage.recipient_id == other.id),
                      sa.and_(ChatMessage.sender_id == other.id,
                              ChatMessage.recipient_id == self.user.id))
        rows = self.session.execute(sa.select(ChatMessage).where(pair).order_by(
            ChatMessage.id.desc()).limit(CONVERSATION_LIMIT)).scalars().all()
        return list(reversed(rows))

    def mark_read(self, message_id):
        """Mark the message to ``user`` read, and every earlier unread one of its sender."""
        message = self.session.get(ChatMessage, message_id)
        if message is None or message.recipient_id != self.user.id:
            raise ChatError(f"message_id: no message {message_id} to you", field="message_id",
                            status=404)
        self.session.execute(
            sa.update(ChatMessage).where(ChatMessage.recipient_id == self.user.id,
                                         ChatMessage.sender_id == message.sender_id,
                                         ChatMessage.id <= message.id,
                                         ChatMessage.read_at.is_(None))
            .values(read_at=self.clock()))
        self.session.commit()
        self.session.refresh(message)
        return message

    # notices

    def _visible(self):
        now = self.clock()
        return sa.and_(sa.or_(Notice.team_id.is_(None), Notice.team_id.in_(self._team_ids())),
                       sa.or_(Notice.expires_at.is_(None), Notice.expires_at > now))

    def notices(self):
        """The notices in force for ``user``, newest first, with when they acknowledged each."""
        rows = self.session.execute(
            sa.select(Notice, NoticeAck.acked_at).outerjoin(
                NoticeAck, sa.and_(NoticeAck.notice_id == Notice.id,
                                   NoticeAck.user_id == self.user.id))
            .where(self._visible()).order_by(Notice.id.desc())).all()
        return [notice.to_dict(acked_at) for notice, acked_at in rows]

    def post_notice(self, title, body="", team=None, expires_at=None):
        """Post a notice to the team called ``team`` (one the user supervises, or any with
        teams.manage), or to everyone (``team`` None, teams.manage only)."""
        title = _text(title, "title", TITLE_LENGTH)
        body = _text(body, "body", NOTICE_LENGTH, required=False)
        expires = self._expiry(expires_at)
        if team is None or (isinstance(team, str) and not team.strip()):
            if not self.user.can(EVERYONE):
                raise Forbidden("team: only an admin posts to everyone; name your team",
                                field="team")
            target = None
        else:
            target = self.teams.by_name(_text(team, "team", 64))
            if target is None:
                raise ChatError(f"team: no team called {team}", field="team")
            if not self.user.can(EVERYONE) and target not in self.teams.supervised_by(self.user):
                raise Forbidden(f"team: you do not supervise {target.name}", field="team")
        notice = Notice(author=self.user, team=target, title=title, body=body,
                        created_at=self.clock(), expires_at=expires)
        self.session.add(notice)
        self.session.commit()
        return notice

    def _expiry(self, value):
        if value is None or value == "":
            return None
        try:
            moment = datetime.datetime.fromisoformat(str(value))
        except ValueError:
            raise ChatError("expires_at: not an ISO 8601 date-time", field="expires_at") from None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=display_timezone())
        if moment <= self.clock():
            raise ChatError("expires_at: must be in the future", field="expires_at")
        return moment

    def ack(self, notice_id):
        """Acknowledge a notice in force for ``user`` (again: kept as first acknowledged)."""
        notice = self.session.execute(sa.select(Notice).where(
            Notice.id == notice_id, self._visible())).scalar_one_or_none()
        if notice is None:
            raise ChatError(f"notice_id: no notice {notice_id} for you", field="notice_id",
                            status=404)
        ack = self.session.get(NoticeAck, (notice.id, self.user.id))
        if ack is None:
            ack = NoticeAck(notice_id=notice.id, user_id=self.user.id, acked_at=self.clock())
            self.session.add(ack)
            self.session.commit()
        return notice.to_dict(ack.acked_at)

    # the stream

    def cursor(self):
        """Where a stream opened now starts: after every message and notice there is."""
        message = self.session.execute(sa.select(sa.func.max(ChatMessage.id))).scalar()
        notice = self.session.execute(sa.select(sa.func.max(Notice.id))).scalar()
        return Cursor(message or 0, notice or 0)

    def since(self, cursor, limit=100):
        """(kind, JSON, cursor after it) of what is new for ``user`` after ``cursor``: messages
        to or from them, then notices in force for them."""
        out = []
        messages = self.session.execute(
            sa.select(ChatMessage).where(self._mine(), ChatMessage.id > cursor.message)
            .order_by(ChatMessage.id).limit(limit)).scalars().all()
        for message in messages:
            cursor = dataclasses.replace(cursor, message=message.id)
            out.append(("message", message.to_dict(), cursor))
        notices = self.session.execute(
            sa.select(Notice).where(self._visible(), Notice.id > cursor.notice)
            .order_by(Notice.id).limit(limit)).scalars().all()
        for notice in notices:
            cursor = dataclasses.replace(cursor, notice=notice.id)
            out.append(("notice", notice.to_dict(), cursor))
        return out, cursor
