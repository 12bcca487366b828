"""The user directory: an xml_curl binding first, then the static directory (the phone book).

``locate_user`` is ``switch_xml_locate_user_merged`` (switch_xml.c) for the emulator: each
binding is asked first (``switch_xml_locate``), and only a binding that does not answer, answers
an HTTP error or an unusable document, or answers ``<result status="not found"/>`` lets the static
directory (the emulator's phones, standing for freeswitch_conf's directory files) answer.
"""

import base64
import dataclasses
import logging
import typing
import urllib.error
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET

logger = logging.getLogger(__name__)

# vanilla directory/default.xml's domain dial-string, which users without their own inherit
DOMAIN_DIAL_STRING = ("{^^:sip_invite_domain=${dialed_domain}:presence_id=${dialed_user}@${dialed_domain}}"
                      "${sofia_contact(*/${dialed_user}@${dialed_domain})}")


@dataclasses.dataclass(frozen=True)
class XmlCurlBinding:
    """A mod_xml_curl binding of the directory section (its xml_curl.conf.xml params).

    ``gateway_credentials`` ("user:password") go as HTTP Basic, as with ``auth-scheme`` basic.
    mod_xml_curl's own default timeout is none at all (a stuck server stalls the lookup); the
    emulator always has one.
    """

    gateway_url: str
    gateway_credentials: typing.Optional[str] = None
    timeout: float = 2.0


@dataclasses.dataclass(frozen=True)
class DirectoryUser:
    """A user as a lookup merges it: its params and variables over its group's and domain's."""

    id: str
    params: typing.Mapping[str, str]
    variables: typing.Mapping[str, str] = dataclasses.field(default_factory=dict)

    @property
    def dial_string(self):
        """The user's dial-string param (None without one)."""
        return self.params.get("dial-string")


def domains(switch):
    """The static directory's domains: vanilla's one is $${domain}, the host's address."""
    return {switch.global_var("domain", "127.0.0.1"), switch.global_var("local_ip_v4", "127.0.0.1")}


def locate_user(switch, user, domain, action=None):
    """The directory user ``user``@``domain``, or None (switch_xml_locate_user_merged).

    ``action`` is the lookup's purpose as FreeSWITCH posts it (``user_call`` for ``user/``).
    """
    binding = switch.config.xml_curl
    if binding is not None:
        found = fetch_user(binding, switch.hostname, user, domain, action)
        if found is not None:
            return found
    phone = switch.phones.get(user)
    if phone is None or domain not in domains(switch):
        return None
    return DirectoryUser(user, {"dial-string": phone.dial_string or DOMAIN_DIAL_STRING})


def fetch_user(binding, hostname, user, domain, action=None):
    """The user as the binding's server answers (xml_url_fetch, mod_xml_curl.c), or None.

    POSTs the fields mod_xml_curl sends for a user lookup (form-encoded, Basic credentials);
    anything but a 200 holding the user in the asked domain is None, logged as FreeSWITCH does.
    """
    fields = [("hostname", hostname), ("section", "directory"), ("tag_name", "domain"),
              ("key_name", "name"), ("key_value", domain)]
    if action is not None:
        fields.append(("action", action))
    fields += [("key", "id"), ("user", user), ("domain", domain)]
    headers = {"Content-Type": "application/x-www-form-urlencoded",
               "User-Agent": "freeswitch-xml/1.0"}
    if binding.gateway_credentials:
        # curl sends Basic at once when it is the only scheme allowed: no 401 round trip
        token = base64.b64encode(binding.gateway_credentials.encode("utf-8")).decode("ascii")
        headers["Authorization"] = f"Basic {token}"
    request = urllib.request.Request(binding.gateway_url, method="POST", headers=headers,
                                     data=urllib.parse.urlencode(fields).encode("utf-8"))
    try:
        with urllib.request.urlopen(request, timeout=binding.timeout) as response:
            body = response.read()
    except urllib.error.HTTPError as exc:
        logger.error("Received HTTP error %s trying to fetch %s (user %s@%s)", exc.code,
                     binding.gateway_url, user, domain)
        return None
    except (urllib.error.URLError, OSError) as exc:
        logger.warning("xml_curl %s for user %s@%s: %s", binding.gateway_url, user, domain, exc)
        return None
    return _user_in(body, user, domain)


def _user_in(body, user, domain):
    try:
        document = ET.fromstring(body)
    except ET.ParseError as exc:
        logger.error("Error Parsing Result! [%s] (user %s@%s)", exc, user, domain)
        return None
    result = document.find("section[@name='result']/result")
    if result is not None and result.get("status", "").lower() == "not found":
        return None
    # switch_xml_locate_user: the asked domain, then the user by id in its groups, then bare
    node = next((candidate for candidate in document.iterfind("section[@name='directory']/domain")
                 if candidate.get("name") == domain), None)
    if node is None:
        return None
    for found in (node.iterfind("groups/group/users/user"), node.iterfind("users/user")):
        for candidate in found:
            if candidate.get("id") == user and candidate.get("type") != "pointer":
                group = _parent_group(node, candidate)
                return DirectoryUser(user, _merged(candidate, group, node, "params", "param"),
                                     _merged(candidate, group, node, "variables", "variable"))
    return None


def _parent_group(domain, user):
    for group in domain.iterfind("groups/group"):
        if any(candidate is user for candidate in group.iterfind("users/user")):
            return group
    return None


def _merged(user, group, domain, container, tag):
    # switch_xml_merge_user: the user's own values first; group's, then domain's, fill the gaps
    merged = {}
    for node in (user, group, domain):
        if node is None:
            continue
        for item in node.iterfind(f"{container}/{tag}"):
            merged.setdefault(item.get("name"), item.get("value", ""))
    return merged
