"""The IVR flows' versions: every text ever saved or picked up from disk, and which is current.

A version is never changed or deleted: a restore is a new version naming the one it came from
(``restored_from``). ``ivr_flows`` holds one row per flow with its current version; saving
moves that pointer with a compare-and-set, so two admins saving at once cannot both win.
"""

import sqlalchemy as sa

from web.extensions import db
from web.types import UTCDateTime, utcnow

FILE_AUTHOR = "file"  # the author of a version the engine picked up from a changed file
NAME_LENGTH = 64
COMMENT_LENGTH = 500


class IvrFlow(db.Model):
    """A flow by name and the number of its current version."""

    __tablename__ = "ivr_flows"

    id = sa.Column(sa.Integer, primary_key=True)
    name = sa.Column(sa.String(NAME_LENGTH), nullable=False, unique=True)
    current_version = sa.Column(sa.Integer, nullable=False)
    updated_at = sa.Column(UTCDateTime(), nullable=False, default=utcnow)


class IvrFlowVersion(db.Model):
    """One version of a flow: its YAML text, who made it, when, and why."""

    __tablename__ = "ivr_flow_versions"
    __table_args__ = (sa.UniqueConstraint("flow", "version"),
                      sa.Index("ix_ivr_flow_versions_flow_sha256", "flow", "sha256"))

    id = sa.Column(sa.Integer, primary_key=True)
    flow = sa.Column(sa.String(NAME_LENGTH), nullable=False)
    version = sa.Column(sa.Integer, nullable=False)  # 1, 2, ... per flow
    yaml = sa.Column(sa.Text, nullable=False)
    sha256 = sa.Column(sa.String(64), nullable=False)
    author = sa.Column(sa.String(64), nullable=False)  # a username, or "file"
    author_id = sa.Column(sa.Integer, nullable=True)  # the user's id (None for "file")
    created_at = sa.Column(UTCDateTime(), nullable=False, default=utcnow)
    comment = sa.Column(sa.String(COMMENT_LENGTH), nullable=False, default="")
    restored_from = sa.Column(sa.Integer, nullable=True)

    def to_dict(self, with_yaml=False):
        """The version as the API shows it (its text only when asked)."""
        out = {"flow": self.flow, "version": self.version, "author": self.author,
               "created_at": self.created_at.isoformat(), "comment": self.comment,
               "sha256": self.sha256, "restored_from": self.restored_from}
        if with_yaml:
            out["yaml"] = self.yaml
        return out
