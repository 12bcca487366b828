"""The demo catalog: the settings' queues (every setting) and agents, and DID 4000 to the flow;
and the demo's agent user at agent 1009.

Seeded only into an empty catalog (no queue, agent or route, enabled or not), so running it
again, or after an admin changed anything, changes nothing.
"""

import logging

import sqlalchemy as sa

from fs_cc.acd.config import parse_agents, parse_queues
from fs_cc.errors import ConfigError
from web.audit import actions
from web.auth.passwords import random_password
from web.auth.models import User
from web.catalog import rules
from web.catalog.errors import CatalogError
from web.catalog.models import Agent, DidRoute, Queue, QueueMember
from web.catalog.services import CatalogChanges

logger = logging.getLogger(__name__)

DEMO_NUMBER = "4000"


def catalog_is_empty(session):
    """Whether no queue, agent or DID route exists at all."""
    return not any(session.execute(sa.select(sa.exists().select_from(model))).scalar()
                   for model in (Queue, Agent, DidRoute))


def seed_demo_catalog(session, notify, settings):
    """Seed an empty catalog from ``settings``; returns whether it did.

    Users whose extension is a seeded agent's (and who are no agent yet) are linked to it.
    """
    changes = CatalogChanges(session, notify)
    queues = parse_queues(settings.queues)
    agents = parse_agents(settings.agents, queues)
    flow = settings.ivr_flow.stem
    if not catalog_is_empty(session):
        logger.info("catalog not empty: no demo catalog seeded")
        return False
    try:
        with changes.change("demo catalog seeded", actions.CATALOG_SEEDED, "catalog",
                            {"queues": sorted(queues), "agents": len(agents), "did": DEMO_NUMBER}):
            _seed(session, queues, agents, flow)
    except CatalogError as exc:  # the settings hold what the catalog refuses
        raise ConfigError(f"the settings' queues and agents cannot seed the catalog: "
                          f"{exc.message}") from exc
    except _SeededMeanwhile:
        logger.info("catalog seeded by another process meanwhile")
        return False
    logger.info("demo catalog seeded: %s queues, %s agents, %s -> %s (default)",
                len(queues), len(agents), DEMO_NUMBER, flow)
    return True


class _SeededMeanwhile(Exception):
    """Another process filled the catalog between our look and our lock."""


def _seed(session, queues, agents, flow):
    if not catalog_is_empty(session):  # looked again under the version row's lock
        raise _SeededMeanwhile()
    by_name = {}
    for queue in queues.values():
        settings = rules.queue_settings(queue.to_dict())
        settings["name"] = rules.queue_name(queue.name)
        by_name[queue.name] = Queue(enabled=True, **settings)
        session.add(by_name[queue.name])
    users = {user.extension: user for user in session.execute(
        sa.select(User).where(User.extension.is_not(None))).scalars()}
    for item in agents:
        agent = Agent(extension=rules.extension(item["extension"]), name=item["name"],
                      skills=rules.skills(item.get("skills") or {}), enabled=True,
                      user=users.get(item["extension"]))
        agent.memberships = [QueueMember(queue=by_name[name], level=1)
                             for name in item["queues"]]
        session.add(agent)
    session.add(DidRoute(number=DEMO_NUMBER, flow=flow, description="Demo number",
                         enabled=True, is_default=True))


# the last of the seeded agents: a desktop agent stays in wrap-up until its disposition is filed
# (fs_cc.acd.presence), so the one a person sits at is the one the router reaches last (longest
# idle, ties by extension), and the simulated traffic keeps the other nine busy meanwhile
DEMO_AGENT_EXTENSION = "1009"
DEMO_AGENT_USERNAME = "agent1009"


def seed_demo_agent(session, accounts):
    """The demo's agent user (role agent) at the seeded agent 1009, for the desktop to be; the
    embedded default only. Returns (username, password): the password only when created now,
    (None, None) when there is no free enabled agent 1000 (an admin changed the catalog)."""
    if accounts.users.by_username(DEMO_AGENT_USERNAME) is not None:
        return DEMO_AGENT_USERNAME, None
    agent = session.execute(sa.select(Agent).where(
        Agent.extension == DEMO_AGENT_EXTENSION)).scalar_one_or_none()
    if agent is None or not agent.enabled or agent.user_id is not None:
        logger.info("no free agent %s: no demo agent user", DEMO_AGENT_EXTENSION)
        return None, None
    password = random_password(accounts.policy)
    accounts.create({"username": DEMO_AGENT_USERNAME,
                     "display_name": f"Agent {DEMO_AGENT_EXTENSION}", "role": "agent",
                     "extension": DEMO_AGENT_EXTENSION}, password)
    logger.info("demo agent user %s created at extension %s", DEMO_AGENT_USERNAME,
                DEMO_AGENT_EXTENSION)
    return DEMO_AGENT_USERNAME, password
