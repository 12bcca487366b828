"""fs_cc.directory: the agents' directory entries as mod_xml_curl fetches them (pure), and the
password the web's agent page shows.

Each document is read the way FreeSWITCH reads a fetched one: through a model of its preprocessor
(switch_xml_parse_file runs it on the response too), then as XML, then the user is taken from the
asked domain as switch_xml_locate_user does.
"""

import re
import types
import xml.etree.ElementTree as ET

import pytest

from fs_cc import directory
from fs_cc.catalog import AgentDef, Catalog
from fs_cc.directory import (LOOPBACK_DIAL_STRING, NOT_FOUND, SOFIA_DIAL_STRING,
                             BadDirectoryQuery, EndpointMode, SwitchBinding, answer, sip_password)
from tests.test_catalog import write
from tests.web.support import (app_on, create_user, database_url_for, dispose, login,  # noqa: F401
                               migrated_databases)

SECRET = "test-control-secret"
DOMAIN = "192.0.2.10"


def agent(extension, name=None):
    """An enabled agent of the catalog, in sales."""
    return AgentDef(extension, name or f"Agent {extension}", ("sales",),
                    types.MappingProxyType({}), types.MappingProxyType({"sales": 1}))


def catalog(*agents):
    return Catalog.build([], agents, {}, None, 7)


def lookup(user, domain=DOMAIN, **extra):
    """The fields mod_xml_curl posts for a user lookup (xml_url_fetch, measured on 1.10.12)."""
    return dict(hostname="fs1", section="directory", tag_name="domain", key_name="name",
                key_value=domain, key="id", user=user, domain=domain, **extra)


def preprocessed(text):
    """The document as FreeSWITCH's preprocessor leaves it: $${...} expanded, and each line
    holding <include>, </include>, <?, or x-pre-process (not as a directive) dropped."""
    kept = []
    for line in text.splitlines(keepends=True):
        line = re.sub(r"\$\$\{([^}]*)\}", "EXPANDED", line)
        if ("<include>" in line or "</include>" in line or "<?" in line
                or "x-pre-process" in line.lower()):
            continue
        kept.append(line)
    return "".join(kept)


def user_entry(document, user, domain=DOMAIN):
    """(params, variables) of ``user`` in ``domain`` of the document FreeSWITCH would read."""
    root = ET.fromstring(preprocessed(document))
    assert root.tag == "document" and root.get("type") == "freeswitch/xml"
    (node,) = [d for d in root.iterfind("section[@name='directory']/domain")
               if d.get("name") == domain]
    (found,) = [u for u in node.iterfind("groups/group[@name='default']/users/user")
                if u.get("id") == user]
    params = {p.get("name"): p.get("value") for p in found.iterfind("params/param")}
    variables = {v.get("name"): v.get("value") for v in found.iterfind("variables/variable")}
    domain_params = {p.get("name"): p.get("value") for p in node.iterfind("params/param")}
    return params, variables, domain_params


def is_not_found(document):
    result = ET.fromstring(document).find("section[@name='result']/result")
    return result is not None and result.get("status") == "not found"


# --- passwords ---------------------------------------------------------------------------------

def test_given_the_control_secret_when_a_password_is_derived_then_it_is_pinned():
    # every phone is configured with these: changing the rule changes every agent's password
    assert sip_password(SECRET, "1000") == "afpeoccqbp2heiekkiowkivy"
    assert sip_password(SECRET, "1050") == "hyh27idmzbnooiliayzcjpnh"


def test_given_extensions_and_secrets_when_derived_then_each_differs_and_a_phone_can_type_it():
    passwords = {sip_password(secret, ext) for secret in (SECRET, "another-secret-value")
                 for ext in ("1000", "1001", "10000")}

    assert len(passwords) == 6
    assert all(re.fullmatch(r"[a-z2-7]{24}", password) for password in passwords)


def test_given_the_secret_in_the_environment_when_run_as_a_program_then_one_line_per_extension(
        capsys):
    status = directory.main(["sip-passwords", "1000", "1050"], {"FS_CC_CONTROL_SECRET": SECRET})

    assert status == 0
    assert capsys.readouterr().out.splitlines() == [
        f"1000 {sip_password(SECRET, '1000')}", f"1050 {sip_password(SECRET, '1050')}"]


def test_given_no_secret_when_run_as_a_program_then_refused_printing_no_password(capsys):
    assert directory.main(["sip-passwords", "1000"], {}) == 2
    assert capsys.readouterr().out == ""


# --- the document ------------------------------------------------------------------------------

def test_given_an_enabled_agent_when_looked_up_then_its_entry_as_the_static_file_has_it():
    document = answer(catalog(agent("1050", "Alice")), lookup("1050", action="user_call"),
                      SwitchBinding(DOMAIN), SECRET)

    params, variables, domain_params = user_entry(document, "1050")
    assert params == {"password": sip_password(SECRET, "1050"), "dial-string": SOFIA_DIAL_STRING}
    assert variables == {"user_context": "default", "effective_caller_id_name": "Alice",
                         "effective_caller_id_number": "1050", "callgroup": "fs_cc_agents",
                         "accountcode": "1050"}
    assert domain_params == {"dial-string": SOFIA_DIAL_STRING}  # vanilla's, for other users


@pytest.mark.parametrize("sip_agents, ext, dial, mwi", [
    ("1019", "1050", LOOPBACK_DIAL_STRING, None),
    ("1019", "1019", SOFIA_DIAL_STRING, "false"),
    ("1050, 1051", "1051", SOFIA_DIAL_STRING, "false"),
    ("none", "1019", LOOPBACK_DIAL_STRING, None),
])
def test_given_a_test_switch_when_looked_up_then_loopback_phones_but_for_its_sip_agents(
        sip_agents, ext, dial, mwi):
    switch = SwitchBinding(DOMAIN, EndpointMode.parse("loopback", sip_agents))

    params, variables, _ = user_entry(answer(catalog(agent(ext)), lookup(ext), switch, SECRET),
                                      ext)

    assert params["dial-string"] == dial
    # as install.sh gives the static SIP agents: the sipp phone would take the NOTIFY as its call
    assert variables.get("send-message-query-on-register") == mwi


def test_given_a_production_switch_when_looked_up_then_every_agent_is_a_sip_phone():
    switch = SwitchBinding.from_query({"agent_endpoint": "sofia", "sip_agents": "1019"})

    params, variables, _ = user_entry(answer(catalog(agent("1050")), lookup("1050"), switch,
                                             SECRET), "1050")

    assert params["dial-string"] == SOFIA_DIAL_STRING
    assert "send-message-query-on-register" not in variables


@pytest.mark.parametrize("name", [
    'Jean-Luc "JL" <Picard> & Co',
    "Leak $${fs_cc_esl_password} and ${uuid}",
    "<X-PRE-PROCESS cmd=\"exec\" data=\"touch /tmp/x\"/>",
    "x-pre-process",
    "<include> </include> <?xml?>",
    "王小明\tline\nbreak",
])
def test_given_a_name_with_markup_or_switch_syntax_when_served_then_freeswitch_reads_it_verbatim(
        name):
    document = answer(catalog(agent("1050", name)), lookup("1050"), SwitchBinding(), SECRET)

    _, variables, _ = user_entry(document, "1050")
    assert variables["effective_caller_id_name"] == name
    assert "EXPANDED" not in document and "$${" not in document


@pytest.mark.parametrize("fields", [
    lookup("1051"),                                    # unknown (or disabled: not in the catalog)
    lookup("1050", domain="example.com"),              # another domain than the switch's
    dict(lookup("1050"), key="number-alias"),          # another key
    dict(lookup("1050"), user=""),                     # a domain lookup (gateways, ACLs)
    {k: v for k, v in lookup("1050").items() if k != "user"},
    dict(lookup("1050"), section="dialplan"),          # another section
    dict(lookup("1050"), tag_name="user"),
    {},
])
def test_given_a_lookup_the_catalog_cannot_answer_in_full_when_asked_then_not_found(fields):
    document = answer(catalog(agent("1050")), fields, SwitchBinding(DOMAIN), SECRET)

    # a domain without the user would end the lookup there; "not found" lets the static files answer
    assert document == NOT_FOUND
    assert is_not_found(document)


def test_given_a_binding_naming_no_domain_when_any_domain_asked_then_answered_in_that_domain():
    document = answer(catalog(agent("1050")), lookup("1050", domain="pbx.example.com"),
                      SwitchBinding(), SECRET)

    assert user_entry(document, "1050", domain="pbx.example.com")[0]["password"]


def test_given_an_agent_disabled_when_the_catalog_is_read_again_then_not_found():
    before, after = catalog(agent("1050"), agent("1051")), catalog(agent("1051"))

    assert answer(before, lookup("1050"), SwitchBinding(), SECRET) != NOT_FOUND
    assert answer(after, lookup("1050"), SwitchBinding(), SECRET) == NOT_FOUND


# --- the binding's description of the switch ---------------------------------------------------

def test_given_the_installed_binding_query_when_parsed_then_domain_and_mode():
    switch = SwitchBinding.from_query({"domain": DOMAIN, "agent_endpoint": "loopback",
                                       "sip_agents": "1018,1019"})

    assert switch == SwitchBinding(DOMAIN, EndpointMode("loopback", frozenset({"1018", "1019"})))
    assert SwitchBinding.from_query({}) == SwitchBinding(None, EndpointMode("sofia", frozenset()))


@pytest.mark.parametrize("query, field", [
    ({"agent_endpoint": "pigeon"}, "agent_endpoint"),
    ({"agent_endpoint": "loopback", "sip_agents": "1019;reboot"}, "sip_agents"),
    ({"agent_endpiont": "loopback"}, "agent_endpiont"),
])
def test_given_a_binding_query_not_understood_when_parsed_then_refused_naming_the_field(
        query, field):
    with pytest.raises(BadDirectoryQuery) as caught:
        SwitchBinding.from_query(query)

    assert caught.value.field == field


# --- the web shows the engine's password -------------------------------------------------------

@pytest.fixture
def web(tmp_path, migrated_databases):  # noqa: F811
    """A testing web app (the engine's control secret in its config) with agent 1050."""
    app = app_on(tmp_path, database_url_for(migrated_databases, "sqlite"))
    write(app, "queues", "create", {"name": "sales"})
    write(app, "agents", "create", {"extension": "1050", "queues": {"sales": 1}})
    yield app
    dispose(app)


@pytest.mark.parametrize("role, shown", [("admin", True), ("manager", False),
                                         ("supervisor", False)])
def test_given_an_agents_page_then_only_an_admin_reads_the_password_the_engine_serves(
        web, role, shown):
    client = web.test_client()
    _, username, password = create_user(web, role=role)
    login(client, username, password)

    page = client.get("/catalog/agents/1050").get_data(as_text=True)

    served = sip_password(web.config["FS_CC_CONTROL_SECRET"], "1050")
    assert (served in page) == shown
    field = re.search(r'<input id="sip_password"[^>]*>', page)
    assert (field is not None) == shown
    if shown:  # read-only and nameless: never submitted with the form, never stored
        assert " readonly" in field.group(0) and "name=" not in field.group(0)
