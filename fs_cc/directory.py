"""FreeSWITCH's user directory for the catalog's agents, as mod_xml_curl fetches it (pure).

FreeSWITCH asks for a user with the fields mod_xml_curl posts (``xml_url_fetch``:
``section=directory&tag_name=domain&key_name=name&key_value=<domain>`` then the lookup's own
``user``, ``domain``, ``key``, ``action``) and takes the user from the ``<domain>`` of the answer
(``switch_xml_locate_user``). An answer of ``<result status="not found"/>`` makes
``switch_xml_locate`` try its next binding and then the static files; a domain without the user
would not (the lookup would fail there), so every lookup this module cannot answer in full gets
the "not found" document.

The SIP passwords are derived from the control secret (:func:`sip_password`), never stored: the
engine serves them, the web shows them, ``freeswitch_conf/install.sh`` writes the test switch's
static fallback with them (``python -m fs_cc.directory sip-passwords``), and nobody edits two
places.
"""

import base64
import dataclasses
import hashlib
import hmac
import os
import re
import sys
import typing

from fs_cc.errors import FsCcError

# vanilla's directory/default.xml string (without verto): the registered phone's contact
SOFIA_DIAL_STRING = ("{^^:sip_invite_domain=${dialed_domain}:presence_id=${dialed_user}@"
                     "${dialed_domain}}${sofia_contact(*/${dialed_user}@${dialed_domain})}")
# a test switch's simulated agent phone (freeswitch_conf/dialplan/default: fs_cc_test_agent_phone)
LOOPBACK_DIAL_STRING = "loopback/fs_cc_agent_${dialed_user}/default"
ENDPOINTS = ("sofia", "loopback")
USER_CONTEXT = "default"
CALLGROUP = "fs_cc_agents"
PASSWORD_LENGTH = 24  # base32 characters: 120 bits, letters and digits a phone's keypad can type
_PASSWORD_PURPOSE = b"fs_cc sip password v1\x00"
_EXTENSION = re.compile(r"^[0-9]{1,32}$")

NOT_FOUND = ('<document type="freeswitch/xml">\n'
             '  <section name="result">\n'
             '    <result status="not found"/>\n'
             '  </section>\n'
             '</document>\n')


class BadDirectoryQuery(FsCcError):
    """The binding's URL describes the switch in a way this module does not understand."""

    def __init__(self, field, value, expected):
        super().__init__(f"{field}={value!r}: expected {expected}")
        self.field = field
        self.value = value


def sip_password(secret, extension):
    """The SIP password of agent ``extension``: HMAC-SHA256 of the control secret, base32.

    Lowercase letters and the digits 2-7, so any phone accepts and anyone can type it; rotating
    the control secret rotates every agent's password.
    """
    digest = hmac.new(secret.encode("utf-8"), _PASSWORD_PURPOSE + extension.encode("utf-8"),
                      hashlib.sha256).digest()
    return base64.b32encode(digest).decode("ascii").lower()[:PASSWORD_LENGTH]


@dataclasses.dataclass(frozen=True)
class EndpointMode:
    """How the switch reaches agents: SIP phones (``sofia``) or, on a test switch, ``loopback``
    phones, but for the agents in ``sip_agents`` (install.sh's FS_CC_SIP_AGENTS)."""

    endpoint: str = "sofia"
    sip_agents: typing.FrozenSet[str] = frozenset()

    @classmethod
    def parse(cls, endpoint="sofia", sip_agents=""):
        """From install.sh's values: ``sofia``/``loopback`` and "1018,1019" (or "none", "")."""
        if endpoint not in ENDPOINTS:
            raise BadDirectoryQuery("agent_endpoint", endpoint, " or ".join(ENDPOINTS))
        names = [] if sip_agents in ("", "none") else re.split(r"[,\s]+", sip_agents.strip())
        for name in names:
            if not _EXTENSION.match(name):
                raise BadDirectoryQuery("sip_agents", sip_agents,
                                        "extensions separated by commas, or none")
        return cls(endpoint, frozenset(names))

    def is_sip_phone(self, extension):
        """Whether the agent is rung through sofia (a registered SIP phone)."""
        return self.endpoint == "sofia" or extension in self.sip_agents

    def dial_string(self, extension):
        """The user's dial-string: vanilla's sofia_contact() one, or the loopback phone."""
        return SOFIA_DIAL_STRING if self.is_sip_phone(extension) else LOOPBACK_DIAL_STRING


@dataclasses.dataclass(frozen=True)
class SwitchBinding:
    """What the switch's binding URL says of it: its ``domain`` (None: any) and its mode."""

    domain: typing.Optional[str] = None
    mode: EndpointMode = EndpointMode()

    FIELDS = ("domain", "agent_endpoint", "sip_agents")

    @classmethod
    def from_query(cls, query):
        """From the URL's query fields (a mapping of str); BadDirectoryQuery on a stray one."""
        for name in query:
            if name not in cls.FIELDS:
                raise BadDirectoryQuery(name, query[name], "only " + ", ".join(cls.FIELDS))
        return cls(query.get("domain") or None,
                   EndpointMode.parse(query.get("agent_endpoint") or "sofia",
                                      query.get("sip_agents", "")))


def requested_user(fields, switch=SwitchBinding()):
    """(user, domain) a mod_xml_curl request asks for, or None when it is no user-by-id lookup
    of the switch's domain (a domain alone, gateways, another section, another key)."""
    if (fields.get("section") != "directory" or fields.get("tag_name") != "domain"
            or fields.get("key_name") != "name"):
        return None
    domain, user = fields.get("key_value", ""), fields.get("user", "")
    if not domain or not user or fields.get("key", "id") != "id":
        return None
    if switch.domain is not None and domain != switch.domain:
        return None
    return user, domain


def answer(catalog, fields, switch, secret):
    """The document for one mod_xml_curl request: the agent's entry, else NOT_FOUND.

    An agent the catalog lacks (unknown, or disabled: the catalog holds enabled agents only)
    is not found, so FreeSWITCH falls back to its static directory.
    """
    asked = requested_user(fields, switch)
    if asked is None:
        return NOT_FOUND
    user, domain = asked
    agent = catalog.agents.get(user)
    if agent is None:
        return NOT_FOUND
    return render_agent(agent, domain, switch.mode, secret)


def render_agent(agent, domain, mode, secret):
    """The directory document holding ``agent`` (an AgentDef) in ``domain``."""
    ext = agent.extension
    variables = [("user_context", USER_CONTEXT),
                 ("effective_caller_id_name", agent.name or f"Agent {ext}"),
                 ("effective_caller_id_number", ext), ("callgroup", CALLGROUP),
                 ("accountcode", ext)]
    if mode.endpoint == "loopback" and mode.is_sip_phone(ext):
        # as install.sh gives a test switch's SIP agents: no unsolicited message-waiting NOTIFY
        # after a REGISTER (the test's sipp phone takes exactly one call, and would count it)
        variables.append(("send-message-query-on-register", "false"))
    lines = ['<document type="freeswitch/xml">',
             '  <section name="directory">',
             f'    <domain name="{_attr(domain)}">',
             '      <params>',
             f'        <param name="dial-string" value="{SOFIA_DIAL_STRING}"/>',
             '      </params>',
             '      <groups>',
             '        <group name="default">',
             '          <users>',
             f'            <user id="{_attr(ext)}">',
             '              <params>',
             f'                <param name="password" value="{_attr(sip_password(secret, ext))}"/>',
             f'                <param name="dial-string" value="{mode.dial_string(ext)}"/>',
             '              </params>',
             '              <variables>']
    lines += [f'                <variable name="{name}" value="{_attr(value)}"/>'
              for name, value in variables]
    lines += ['              </variables>',
              '            </user>',
              '          </users>',
              '        </group>',
              '      </groups>',
              '    </domain>',
              '  </section>',
              '</document>']
    return "\n".join(lines) + "\n"


# FreeSWITCH runs its preprocessor over a fetched document too (switch_xml_parse_file): it
# expands $${...}, drops each line holding "<include>" or "<?" and each holding "x-pre-process"
# (unless it is a directive). So a value from the catalog writes each character that could
# start one of those as a character reference, which the XML parser turns back into itself.
_ESCAPES = {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&apos;",
            "$": "&#36;", "-": "&#45;"}


def _attr(value):
    return "".join(_ESCAPES.get(ch) or (f"&#{ord(ch)};" if ord(ch) < 32 else ch)
                   for ch in str(value))


def main(argv=None, environ=None):
    """``python -m fs_cc.directory sip-passwords EXT...``: "EXT PASSWORD" lines, the control
    secret read from $FS_CC_CONTROL_SECRET (never from the command line, which others can see)."""
    argv = sys.argv[1:] if argv is None else argv
    environ = os.environ if environ is None else environ
    if not argv or argv[0] != "sip-passwords":
        print("usage: python -m fs_cc.directory sip-passwords EXTENSION...", file=sys.stderr)
        return 2
    secret = environ.get("FS_CC_CONTROL_SECRET", "")
    if not secret:
        print("fs_cc.directory: FS_CC_CONTROL_SECRET is not set", file=sys.stderr)
        return 2
    for extension in argv[1:]:
        print(extension, sip_password(secret, extension))
    return 0


if __name__ == "__main__":
    sys.exit(main())
