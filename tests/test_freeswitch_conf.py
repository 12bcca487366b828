"""The production FreeSWITCH overlay (freeswitch_conf/), its install script and the Vagrantfile.

The XML is checked twice: file by file, and after install.sh has run on a stand-in
vanilla configuration, through a model of FreeSWITCH's preprocessor (switch_xml.c),
so the include chain and every $${variable} are checked the way the switch reads them.
"""

import glob
import os
import re
import shutil
import subprocess
import urllib.parse
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from fs_cc.catalog import AgentDef, Catalog
from fs_cc.directory import SwitchBinding, answer, sip_password

ROOT = Path(__file__).resolve().parents[1]
OVERLAY = ROOT / "freeswitch_conf"
INSTALL = OVERLAY / "install.sh"
AGENTS = [str(ext) for ext in range(1000, 1020)]
ENGINE_SOCKET = "127.0.0.1:8084 async full"
XML_FILES = sorted(OVERLAY.rglob("*.xml"))
SOFIA_DIAL_STRING = ("{^^:sip_invite_domain=${dialed_domain}:presence_id=${dialed_user}@${dialed_domain}}"
                     "${sofia_contact(*/${dialed_user}@${dialed_domain})}")


# --- a model of the switch reading its configuration ---------------------------------

class Preprocessed:
    """The document FreeSWITCH builds from freeswitch.xml, and the $${} it could not resolve."""

    def __init__(self, conf_dir):
        self.conf_dir = Path(conf_dir)
        self.globals = {}
        self.unresolved = []
        self.text = "".join(self._file(self.conf_dir / "freeswitch.xml", self.conf_dir))
        self.root = ET.fromstring(self.text)

    def _expand(self, line):
        def value(match):
            name = match.group(1)
            if name not in self.globals:
                self.unresolved.append(name)
            return self.globals.get(name, "")
        return re.sub(r"\$\$\{([^}]+)\}", value, line)

    def _file(self, path, cwd):
        for raw in Path(path).read_text().splitlines(keepends=True):
            line = self._expand(raw)
            # switch_xml.c drops these lines whole (the wrapper of included files, <?xml ...?>).
            if "<include>" in raw or "</include>" in raw or "<?" in raw:
                continue
            if "x-pre-process" in line.lower():
                yield from self._directive(line, cwd)
                continue
            yield line

    def _directive(self, line, cwd):
        match = re.search(r'<X-PRE-PROCESS cmd="([^"]+)" data="([^"]*)"', line, re.IGNORECASE)
        assert match, f"not a directive FreeSWITCH understands: {line!r}"
        cmd, data = match.groups()
        if cmd == "set":
            name, _, val = data.partition("=")
            # switch_core_set_variable stores each "${" of a global's value as "%{"
            # (switch_string_var_check): a global never carries a variable to expand later
            self.globals[name.strip()] = val.strip().replace("${", "%{")
        elif cmd == "include":
            pattern = data if data.startswith("/") else str(Path(cwd) / data)
            for path in sorted(glob.glob(pattern)):
                yield from self._file(path, Path(path).parent)
        else:
            raise AssertionError(f"unexpected preprocessor command {cmd}")

    def section(self, name):
        """The <section name=...> element."""
        return self.root.find(f"section[@name='{name}']")

    def params(self, configuration):
        """The <param> name/value pairs of one autoload configuration."""
        conf = self.section("configuration").find(f"configuration[@name='{configuration}']")
        return {p.get("name"): p.get("value") for p in conf.iter("param")}

    def context(self, name):
        """A dialplan <context>."""
        return self.section("dialplan").find(f"context[@name='{name}']")

    def users(self):
        """All <user> elements of the directory, by id."""
        found = {}
        for user in self.section("directory").iter("user"):
            assert user.get("id") not in found, f"user {user.get('id')} defined twice"
            found[user.get("id")] = user
        return found


def route(context, destination, variables):
    """The actions of the first matching extension, as mod_dialplan_xml picks them (no continue=).

    Each action's data is shown as it executes: ``${var}`` expanded from the channel's variables
    and those the extension's earlier ``set`` actions gave it.
    """
    for extension in context.findall("extension"):
        captures = ()
        for condition in extension.findall("condition"):
            field = condition.get("field")
            if field is None:
                continue
            if field == "destination_number":
                value = destination
            else:
                value = re.sub(r"\$\{([^}]+)\}", lambda m: variables.get(m.group(1), ""), field)
            match = re.search(condition.get("expression"), value)
            if not match:
                break
            captures = match.groups()
        else:
            actions = []
            channel = dict(variables)
            for action in extension.findall("condition/action"):
                data = action.get("data", "")
                for index, captured in enumerate(captures, start=1):
                    data = data.replace(f"${index}", captured or "")
                data = re.sub(r"\$\{([^}]+)\}", lambda m: channel.get(m.group(1), ""), data)
                if action.get("application") == "set" and "=" in data:
                    name, value = data.split("=", 1)
                    channel[name] = value
                actions.append((action.get("application"), data))
            return extension.get("name"), actions
    return None, []


VANILLA = {
    "freeswitch.xml": """<?xml version="1.0"?>
<document type="freeswitch/xml">
  <X-PRE-PROCESS cmd="include" data="vars.xml"/>
  <section name="configuration" description="Various Configuration">
    <X-PRE-PROCESS cmd="include" data="autoload_configs/*.xml"/>
  </section>
  <section name="dialplan" description="Regex/XML Dialplan">
    <X-PRE-PROCESS cmd="include" data="dialplan/*.xml"/>
  </section>
  <section name="directory" description="User Directory">
    <X-PRE-PROCESS cmd="include" data="directory/*.xml"/>
  </section>
</document>
""",
    "vars.xml": """<include>
  <X-PRE-PROCESS cmd="set" data="default_password=1234"/>
  <X-PRE-PROCESS cmd="set" data="domain=192.0.2.10"/>
</include>
""",
    "autoload_configs/event_socket.conf.xml": """<configuration name="event_socket.conf" description="Socket Client">
  <settings>
    <param name="listen-ip" value="::"/>
    <param name="listen-port" value="8021"/>
    <param name="password" value="ClueCon"/>
  </settings>
</configuration>
""",
    "dialplan/public.xml": """<include>
  <context name="public">
    <X-PRE-PROCESS cmd="include" data="public/*.xml"/>
  </context>
</include>
""",
    "dialplan/default.xml": """<include>
  <context name="default">
    <extension name="vmain">
      <condition field="destination_number" expression="^vmain$|^4000$|^\\*98$">
        <action application="voicemail" data="check default ${domain_name}"/>
      </condition>
    </extension>
    <X-PRE-PROCESS cmd="include" data="default/*.xml"/>
  </context>
</include>
""",
    "directory/default.xml": """<include>
  <domain name="$${domain}">
    <groups>
      <group name="default">
        <users>
          <X-PRE-PROCESS cmd="include" data="default/*.xml"/>
        </users>
      </group>
    </groups>
  </domain>
</include>
""",
    "directory/default/1000.xml": """<include>
  <user id="1000">
    <params>
      <param name="password" value="$${default_password}"/>
    </params>
  </user>
</include>
""",
}


@pytest.fixture
def vanilla(tmp_path):
    """A stand-in for a vanilla /etc/freeswitch, with the modules fs_cc needs loaded."""
    conf = tmp_path / "freeswitch"
    for rel, text in VANILLA.items():
        (conf / rel).parent.mkdir(parents=True, exist_ok=True)
        (conf / rel).write_text(text)
    modules = re.findall(r'module="(mod_\w+)"', (OVERLAY / "fragments/modules.conf.xml").read_text())
    loads = "".join(f'    <load module="{m}"/>\n' for m in modules)
    (conf / "autoload_configs/modules.conf.xml").write_text(
        f'<configuration name="modules.conf" description="Modules">\n  <modules>\n{loads}  </modules>\n</configuration>\n')
    return conf


def run_install(conf, tmp_path, **env):
    """Run install.sh on conf; returns the completed process."""
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("FS_CC_")}
    full_env.update(FS_CC_CONF_DIR=str(conf), FS_CC_ENV_FILE=str(tmp_path / "fs_cc/freeswitch.env"),
                    FS_CC_SOUNDS_DIR=str(tmp_path / "sounds"), FS_CC_CERTS_DIR=str(tmp_path / "certs"),
                    FS_CC_FS_CLI_CONF=str(tmp_path / "fs_cli.conf"), FS_CC_OWNER="")
    full_env.update(env)
    return subprocess.run(["bash", str(INSTALL)], env=full_env, capture_output=True, text=True, timeout=60)


def installed(conf, tmp_path, **env):
    """Run install.sh, asserting success, and read the resulting configuration."""
    result = run_install(conf, tmp_path, **env)
    assert result.returncode == 0, result.stderr
    return Preprocessed(conf)


def env_file(tmp_path, name="freeswitch.env"):
    """The engine's settings install.sh wrote, as a dict."""
    lines = (tmp_path / "fs_cc" / name).read_text().splitlines()
    return dict(line.split("=", 1) for line in lines if line)


def control_env(tmp_path):
    """The engine's control settings install.sh wrote beside freeswitch.env."""
    return env_file(tmp_path, "control.env")


def params(element):
    """The <param> name/value pairs of a directory user or domain."""
    return {p.get("name"): p.get("value") for p in element.iterfind("params/param")}


def directory_binding(fs):
    """The params of xml_curl.conf's bindings, by binding name: {name: [(param, value, bindings)]}."""
    conf = fs.section("configuration").find("configuration[@name='xml_curl.conf']")
    return {binding.get("name"): [(p.get("name"), p.get("value"), p.get("bindings"))
                                  for p in binding.iterfind("param")]
            for binding in conf.iterfind("bindings/binding")}


# --- the files as committed ----------------------------------------------------------

@pytest.mark.parametrize("path", XML_FILES, ids=lambda p: str(p.relative_to(OVERLAY)))
def test_given_overlay_file_when_parsed_then_well_formed_and_readable_by_the_preprocessor(path):
    ET.parse(path)
    for line in path.read_text().splitlines():
        if "<include>" in line or "</include>" in line:
            assert line.strip() in ("<include>", "</include>"), f"the preprocessor drops the whole line {line!r}"
        assert "<?" not in line and "x-pre-process" not in line.lower(), f"the preprocessor consumes {line!r}"


def test_given_overlay_when_listed_then_holds_each_production_file():
    names = {str(p.relative_to(OVERLAY)) for p in XML_FILES}
    assert {"autoload_configs/event_socket.conf.xml", "autoload_configs/xml_curl.conf.xml",
            "dialplan/public/00_fs_cc.xml", "dialplan/default/00_fs_cc.xml",
            "directory/default/fs_cc_agents.xml"} <= names
    assert "vars_fs_cc.xml" not in names, "secrets are generated per deployment, never committed"


def test_given_event_socket_conf_when_read_then_loopback_only_with_a_deployment_password():
    params = {p.get("name"): p.get("value")
              for p in ET.parse(OVERLAY / "autoload_configs/event_socket.conf.xml").iter("param")}
    assert params["listen-ip"] == "127.0.0.1"
    assert params["listen-port"] == "8021"
    assert params["apply-inbound-acl"] == "loopback.auto"
    assert re.fullmatch(r"\$\$\{fs_cc_\w+\}", params["password"])
    assert "ClueCon" not in (OVERLAY / "autoload_configs/event_socket.conf.xml").read_text()


def test_given_agent_directory_when_read_then_users_1000_to_1019_with_their_own_password_variable():
    users = ET.parse(OVERLAY / "directory/default/fs_cc_agents.xml").getroot().findall("user")
    assert [u.get("id") for u in users] == AGENTS
    for user in users:
        ext = user.get("id")
        params = {p.get("name"): p.get("value") for p in user.iter("param")}
        variables = {v.get("name"): v.get("value") for v in user.iter("variable")}
        assert params["password"] == f"$${{fs_cc_agent_{ext}_password}}"
        assert params["dial-string"] == SOFIA_DIAL_STRING, "vanilla's, not through a global"
        assert variables["user_context"] == "default"
        assert variables["effective_caller_id_number"] == ext
        assert variables["effective_caller_id_name"]
        assert variables["callgroup"]
    text = (OVERLAY / "directory/default/fs_cc_agents.xml").read_text()
    assert "default_password" not in text and "1234" not in text


def test_given_modules_fragment_when_read_then_names_every_module_fs_cc_uses():
    conf = ET.parse(OVERLAY / "fragments/modules.conf.xml").getroot()
    assert conf.get("name") == "modules.conf"
    modules = {load.get("module") for load in conf.iter("load")}
    assert {"mod_event_socket", "mod_sofia", "mod_loopback", "mod_dptools", "mod_commands",
            "mod_local_stream", "mod_sndfile", "mod_tone_stream", "mod_say_en", "mod_dialplan_xml",
            "mod_conference", "mod_hash", "mod_xml_curl"} <= modules


# --- installed on a vanilla configuration --------------------------------------------

def test_given_vanilla_conf_when_installed_then_every_variable_resolves_and_esl_uses_the_generated_password(
        vanilla, tmp_path):
    fs = installed(vanilla, tmp_path)

    assert fs.unresolved == []
    esl = fs.params("event_socket.conf")
    assert esl["listen-ip"] == "127.0.0.1"
    assert env_file(tmp_path)["FS_CC_ESL_URL"] == f"127.0.0.1:8021:{esl['password']}"
    assert esl["password"] != "ClueCon" and len(esl["password"]) >= 12
    assert f"password => {esl['password']}" in (tmp_path / "fs_cli.conf").read_text()
    assert fs.globals["default_password"] != "1234", "the vanilla default password is replaced"
    assert (vanilla / "autoload_configs/event_socket.conf.xml.fs_cc-orig").read_text() == \
        VANILLA["autoload_configs/event_socket.conf.xml"]


def test_given_vanilla_conf_when_installed_then_no_static_agent_the_engine_serves_them(vanilla, tmp_path):
    fs = installed(vanilla, tmp_path)

    # a static copy would answer for an agent the catalog disabled, with a second password
    assert fs.users() == {}
    assert not (vanilla / "directory/default/fs_cc_agents.xml").exists()
    assert (vanilla / "directory/default/1000.xml.fs_cc-disabled").exists()
    assert not [name for name in fs.globals if name.startswith("fs_cc_agent_1")]


def test_given_a_test_switch_when_installed_then_each_static_agent_exists_once_with_its_derived_password(
        vanilla, tmp_path):
    fs = installed(vanilla, tmp_path, FS_CC_AGENT_ENDPOINT="loopback")

    users = fs.users()
    assert sorted(users) == AGENTS
    secret = control_env(tmp_path)["FS_CC_CONTROL_SECRET"]
    passwords = {ext: params(users[ext])["password"] for ext in AGENTS}
    # the engine's rule: the static fallback and the engine give a phone the same password
    assert passwords == {ext: sip_password(secret, ext) for ext in AGENTS}
    assert len(set(passwords.values())) == len(AGENTS)
    assert (vanilla / "directory/default/1000.xml.fs_cc-disabled").exists()


def test_given_preprocessor_set_with_a_variable_when_read_then_stored_as_freeswitch_does(tmp_path):
    (tmp_path / "freeswitch.xml").write_text(
        '<document type="freeswitch/xml">\n'
        '  <X-PRE-PROCESS cmd="set" data="x=loopback/a_${dialed_user}/b"/>\n'
        '  <section name="x" value="$${x}"/>\n</document>\n')

    fs = Preprocessed(tmp_path)

    assert fs.globals["x"] == "loopback/a_%{dialed_user}/b"
    assert fs.section("x").get("value") == "loopback/a_%{dialed_user}/b"


@pytest.mark.parametrize("endpoint", ["sofia", "loopback"])
def test_given_either_agent_endpoint_when_installed_then_no_value_holds_a_disabled_variable(
        vanilla, tmp_path, endpoint):
    fs = installed(vanilla, tmp_path, FS_CC_AGENT_ENDPOINT=endpoint, FS_CC_TEST_NUMBERS="true")

    assert not [name for name, value in fs.globals.items() if "%{" in value]
    disabled = [(el.tag, el.attrib) for el in fs.root.iter() if "%{" in " ".join(el.attrib.values())]
    assert disabled == [], "a ${ passed through a global never expands on the switch"


def test_given_installed_conf_when_installed_again_then_secrets_are_kept_and_vars_included_once(vanilla, tmp_path):
    first = installed(vanilla, tmp_path)
    second = installed(vanilla, tmp_path)

    assert second.globals == first.globals
    assert (vanilla / "vars.xml").read_text().count('data="vars_fs_cc.xml"') == 1


@pytest.mark.parametrize("password", ["ClueCon", "short", 'quo"te-password', "with space password"])
def test_given_unusable_esl_password_when_installed_then_refused_and_nothing_written(vanilla, tmp_path, password):
    result = run_install(vanilla, tmp_path, FS_CC_ESL_PASSWORD=password)

    assert result.returncode != 0
    assert "FS_CC_ESL_PASSWORD" in result.stderr
    assert not (vanilla / "vars_fs_cc.xml").exists()
    assert (vanilla / "directory/default/1000.xml").exists()


def test_given_esl_password_in_environment_when_installed_then_switch_and_engine_use_it(vanilla, tmp_path):
    fs = installed(vanilla, tmp_path, FS_CC_ESL_PASSWORD="s3cret-from-vault.01")

    assert fs.params("event_socket.conf")["password"] == "s3cret-from-vault.01"
    assert env_file(tmp_path) == {"FS_CC_ESL_URL": "127.0.0.1:8021:s3cret-from-vault.01"}
    assert oct((tmp_path / "fs_cc/freeswitch.env").stat().st_mode & 0o777) == "0o600"


def test_given_conf_dir_without_freeswitch_xml_when_installed_then_refused(tmp_path):
    (tmp_path / "empty").mkdir()

    result = run_install(tmp_path / "empty", tmp_path)

    assert result.returncode != 0
    assert "freeswitch.xml" in result.stderr


def test_given_switch_missing_a_module_when_installed_then_warns_naming_it(vanilla, tmp_path):
    modules = vanilla / "autoload_configs/modules.conf.xml"
    modules.write_text(modules.read_text().replace('<load module="mod_loopback"/>',
                                                   '<!-- <load module="mod_loopback"/> -->'))

    result = run_install(vanilla, tmp_path)

    assert result.returncode == 0
    assert "WARNING" in result.stdout and "mod_loopback" in result.stdout


def test_given_switch_without_sound_pack_when_installed_then_every_flow_sound_is_there(vanilla, tmp_path):
    from fs_cc.ivr import load_flow
    from fs_cc.ivr.sounds import missing_sounds
    from fs_cc.sounds import sound_prefix
    installed(vanilla, tmp_path)

    for flow in (ROOT / "ivr_flows").glob("*.yaml"):
        assert missing_sounds(load_flow(flow), sound_prefix(tmp_path / "sounds")) == []
    assert list((tmp_path / "sounds/music/8000").glob("*.wav")), "hold music for local_stream://moh"


def test_given_switch_with_its_own_sound_when_installed_then_that_file_is_kept(vanilla, tmp_path):
    own = tmp_path / "sounds/en/us/callie/digits/1.wav"
    own.parent.mkdir(parents=True)
    own.write_bytes(b"the real sound pack")

    result = run_install(vanilla, tmp_path)

    assert result.returncode == 0, result.stderr
    assert own.read_bytes() == b"the real sound pack"
    assert (tmp_path / "sounds/en/us/callie/digits/2.wav").exists()


@pytest.mark.parametrize("conf_dir, sounds", [("/etc/freeswitch", "/usr/share/freeswitch/sounds"),
                                              ("opt/fs/conf", "opt/fs/sounds"),
                                              ("opt/fs/etc/freeswitch", "opt/fs/share/freeswitch/sounds")])
def test_given_a_layout_when_sounds_dir_not_set_then_derived_from_the_conf_dir(tmp_path, conf_dir, sounds):
    if not conf_dir.startswith("/"):
        conf_dir, sounds = str(tmp_path / conf_dir), str(tmp_path / sounds)
        (tmp_path / conf_dir).mkdir(parents=True)
    script = INSTALL.read_text()
    case = script[script.index('if [ -z "$SOUNDS_DIR" ]; then'):script.index("# 1. Secrets")]
    result = subprocess.run(["bash", "-c", 'die() { echo "$*" >&2; exit 1; }\nCONF_DIR="$1"; SOUNDS_DIR=""\n'
                             + case + '\necho "$SOUNDS_DIR"', "x", conf_dir],
                            capture_output=True, text=True, timeout=10)
    assert result.stdout.strip() == sounds, result.stderr


# --- routing, as the installed dialplan routes calls ---------------------------------

@pytest.mark.parametrize("did", ["4000", "95000", "9512345678"])
def test_given_service_number_when_called_in_public_then_handed_to_engine_socket_unanswered(vanilla, tmp_path, did):
    fs = installed(vanilla, tmp_path)

    name, actions = route(fs.context("public"), did, fs.globals)

    assert name == "fs_cc_service_numbers"
    assert actions.index(("socket", ENGINE_SOCKET)) > actions.index(("set", f"fs_cc_did={did}"))
    # a caller whose agent leaves is hung up even if the engine that bridged them is gone
    assert actions.index(("set", "hangup_after_bridge=true")) < actions.index(("socket", ENGINE_SOCKET))
    apps = [app for app, _ in actions]
    engine = apps.index("socket")
    assert "answer" not in apps[:engine], "the engine answers, not the dialplan"
    # no engine (or a dead one): the caller waits on hold music, marked for adoption
    assert actions[engine + 1:] == [
        ("set", "fs_cc_engine_lost=true"), ("answer", ""), ("set", "playback_timeout_sec=1800"),
        ("playback", "local_stream://moh"), ("hangup", "NORMAL_TEMPORARY_FAILURE")]


@pytest.mark.parametrize("socket", [ENGINE_SOCKET.split()[0], "127.0.0.1:41234"])
def test_given_a_caller_on_hold_for_an_engine_when_adopted_then_back_to_the_socket_it_used(
        vanilla, tmp_path, socket):
    fs = installed(vanilla, tmp_path)
    call = dict(fs.globals, fs_cc_socket=socket, fs_cc_engine_lost="true")

    name, actions = route(fs.context("public"), "fs_cc_adopt", call)

    assert name == "fs_cc_adopt"
    assert actions[:2] == [("set", "fs_cc_engine_lost=false"), ("socket", f"{socket} async full")]
    assert actions[-2:] == [("playback", "local_stream://moh"),
                            ("hangup", "NORMAL_TEMPORARY_FAILURE")]


def test_given_a_caller_without_an_engine_socket_when_dialling_fs_cc_adopt_then_not_routed(
        vanilla, tmp_path):
    fs = installed(vanilla, tmp_path)

    assert route(fs.context("public"), "fs_cc_adopt", fs.globals) == (None, [])


@pytest.mark.parametrize("number", ["1000", "9500", "40000", "5551212", "5901"])
def test_given_other_number_when_called_in_public_on_production_switch_then_not_sent_to_engine(
        vanilla, tmp_path, number):
    fs = installed(vanilla, tmp_path)

    assert route(fs.context("public"), number, fs.globals) == (None, [])


@pytest.mark.parametrize("number", ["5901", "5902", "5903", "5999"])
def test_given_test_numbers_enabled_when_59xx_called_in_public_then_handed_to_engine(vanilla, tmp_path, number):
    fs = installed(vanilla, tmp_path, FS_CC_TEST_NUMBERS="true")

    name, actions = route(fs.context("public"), number, fs.globals)

    assert name == "fs_cc_test_numbers"
    assert ("set", f"fs_cc_did={number}") in actions and ("socket", ENGINE_SOCKET) in actions


def test_given_test_call_naming_its_engine_when_59xx_called_then_handed_to_that_socket(vanilla, tmp_path):
    fs = installed(vanilla, tmp_path, FS_CC_TEST_NUMBERS="true")
    call = dict(fs.globals, fs_cc_test_socket="127.0.0.1:41234")

    name, actions = route(fs.context("public"), "5901", call)

    assert name == "fs_cc_test_numbers_own_engine"
    assert actions[:4] == [("set", "fs_cc_did=5901"), ("set", "hangup_after_bridge=true"),
                           ("set", "fs_cc_socket=127.0.0.1:41234"),
                           ("socket", "127.0.0.1:41234 async full")]


def test_given_test_call_with_malformed_engine_address_when_59xx_called_then_default_socket(vanilla, tmp_path):
    fs = installed(vanilla, tmp_path, FS_CC_TEST_NUMBERS="true")
    call = dict(fs.globals, fs_cc_test_socket="127.0.0.1:8084 async full;hangup")

    name, actions = route(fs.context("public"), "5901", call)

    assert name == "fs_cc_test_numbers" and ("socket", ENGINE_SOCKET) in actions


@pytest.mark.parametrize("socket", ["127.0.0.1:41234", "127.0.0.1:5"])
def test_given_sip_test_call_naming_its_engine_in_a_header_when_59xx_called_then_handed_to_that_socket(
        vanilla, tmp_path, socket):
    fs = installed(vanilla, tmp_path, FS_CC_TEST_NUMBERS="true")
    # sofia hands an INVITE's X- headers to the dialplan as sip_h_<name> variables
    call = dict(fs.globals, **{"sip_h_X-FS-CC-Test-Socket": socket})

    name, actions = route(fs.context("public"), "5904", call)

    assert name == "fs_cc_test_numbers_sip_engine"
    assert actions[:4] == [("set", "fs_cc_did=5904"), ("set", "hangup_after_bridge=true"),
                           ("set", f"fs_cc_socket={socket}"),
                           ("socket", f"{socket} async full")]


@pytest.mark.parametrize("header", ["192.0.2.7:41234", "127.0.0.1", "127.0.0.1:41234 async full;hangup",
                                    "127.0.0.1:123456", "localhost:41234"])
def test_given_sip_test_call_with_header_naming_no_local_socket_when_59xx_called_then_default_socket(
        vanilla, tmp_path, header):
    fs = installed(vanilla, tmp_path, FS_CC_TEST_NUMBERS="true")
    call = dict(fs.globals, **{"sip_h_X-FS-CC-Test-Socket": header})

    name, actions = route(fs.context("public"), "5904", call)

    assert name == "fs_cc_test_numbers" and ("socket", ENGINE_SOCKET) in actions


def test_given_production_switch_when_sip_call_names_a_test_socket_then_not_sent_to_engine(vanilla, tmp_path):
    fs = installed(vanilla, tmp_path)
    call = dict(fs.globals, **{"sip_h_X-FS-CC-Test-Socket": "127.0.0.1:41234"})

    assert route(fs.context("public"), "5904", call) == (None, [])


def test_given_agent_phone_when_dialling_service_number_then_transferred_to_public(vanilla, tmp_path):
    fs = installed(vanilla, tmp_path)

    assert route(fs.context("default"), "95001", fs.globals) == (
        "fs_cc_service_numbers_internal", [("transfer", "95001 XML public")])


def test_given_loopback_agents_when_user_originated_then_agent_leg_rings_answers_and_parks(vanilla, tmp_path):
    fs = installed(vanilla, tmp_path, FS_CC_AGENT_ENDPOINT="loopback")

    dial_string = {p.get("name"): p.get("value") for p in fs.users()["1007"].iter("param")}["dial-string"]
    assert "%{" not in dial_string
    destination = dial_string.replace("${dialed_user}", "1007")
    assert destination == "loopback/fs_cc_agent_1007/default"
    name, actions = route(fs.context("default"), "fs_cc_agent_1007", fs.globals)
    assert name == "fs_cc_test_agent_phone"
    assert [app for app, _ in actions] == ["set", "ring_ready", "sleep", "answer", "park"]


def dial_strings(fs):
    """Each directory user's dial-string, by id."""
    return {ext: {p.get("name"): p.get("value") for p in user.iter("param")}["dial-string"]
            for ext, user in fs.users().items()}


def test_given_loopback_agents_when_installed_then_agent_1019_stays_a_sip_phone_for_the_sip_test(
        vanilla, tmp_path):
    fs = installed(vanilla, tmp_path, FS_CC_AGENT_ENDPOINT="loopback", FS_CC_TEST_NUMBERS="true")

    dials = dial_strings(fs)
    assert dials.pop("1019") == SOFIA_DIAL_STRING
    assert set(dials.values()) == {"loopback/fs_cc_agent_${dialed_user}/default"}
    assert fs.globals["fs_cc_sip_agents"] == "1019"  # the SIP test reads it: global_getvar
    # no message-waiting NOTIFY after its REGISTER: the test's sipp phone would take it for its call
    mwi = {ext: {v.get("name"): v.get("value") for v in user.iter("variable")}
           .get("send-message-query-on-register") for ext, user in fs.users().items()}
    assert mwi.pop("1019") == "false"
    assert set(mwi.values()) == {None}


def test_given_sip_agents_setting_when_installed_then_kept_as_sip_phones_and_on_the_next_run(vanilla, tmp_path):
    installed(vanilla, tmp_path, FS_CC_AGENT_ENDPOINT="loopback", FS_CC_SIP_AGENTS="1017 1018")
    fs = installed(vanilla, tmp_path)  # settings not given keep their previous value

    sip = sorted(ext for ext, dial in dial_strings(fs).items() if dial == SOFIA_DIAL_STRING)
    assert sip == ["1017", "1018"]
    assert fs.globals["fs_cc_sip_agents"] == "1017,1018"


def test_given_no_sip_agents_when_installed_with_loopback_then_every_agent_is_a_loopback_phone(
        vanilla, tmp_path):
    fs = installed(vanilla, tmp_path, FS_CC_AGENT_ENDPOINT="loopback", FS_CC_SIP_AGENTS="none")

    assert set(dial_strings(fs).values()) == {"loopback/fs_cc_agent_${dialed_user}/default"}
    assert fs.globals["fs_cc_sip_agents"] == "none"


@pytest.mark.parametrize("value", ["1020", "999", "1019;reboot", "agent", ","])
def test_given_sip_agents_outside_the_agents_when_installed_then_refused_and_nothing_written(
        vanilla, tmp_path, value):
    result = run_install(vanilla, tmp_path, FS_CC_AGENT_ENDPOINT="loopback", FS_CC_SIP_AGENTS=value)

    assert result.returncode != 0
    assert "FS_CC_SIP_AGENTS" in result.stderr
    assert not (vanilla / "vars_fs_cc.xml").exists()


def test_given_sofia_agents_when_test_agent_extension_dialled_then_not_answered(vanilla, tmp_path):
    fs = installed(vanilla, tmp_path)

    assert route(fs.context("default"), "fs_cc_agent_1007", fs.globals) == (None, [])


# --- the agents' directory from the engine (mod_xml_curl) -----------------------------

def test_given_xml_curl_conf_when_read_then_one_binding_of_the_directory_to_the_engine():
    conf = ET.parse(OVERLAY / "autoload_configs/xml_curl.conf.xml").getroot()
    assert conf.get("name") == "xml_curl.conf"
    (binding,) = conf.iterfind("bindings/binding")
    urls = [p for p in binding.iterfind("param") if p.get("name") == "gateway-url"]
    assert [u.get("bindings") for u in urls] == ["directory"]
    assert urls[0].get("value").startswith("http://127.0.0.1:$${fs_cc_control_port}/freeswitch/directory?")
    assert "ClueCon" not in (OVERLAY / "autoload_configs/xml_curl.conf.xml").read_text()


@pytest.mark.parametrize("endpoint, sip_agents", [("sofia", "none"), ("loopback", "1019")])
def test_given_vanilla_conf_when_installed_then_the_directory_binding_reaches_the_engine_with_its_secret(
        vanilla, tmp_path, endpoint, sip_agents):
    fs = installed(vanilla, tmp_path, FS_CC_AGENT_ENDPOINT=endpoint)

    assert fs.unresolved == []
    (name,) = directory_binding(fs)
    binding = {param: (value, bindings) for param, value, bindings in directory_binding(fs)[name]}
    control = control_env(tmp_path)
    secret, port = control["FS_CC_CONTROL_SECRET"], control["FS_CC_CONTROL_PORT"]
    url, sections = binding["gateway-url"]
    assert sections == "directory"
    sip = fs.globals["fs_cc_sip_agents"]
    assert url == (f"http://127.0.0.1:{port}/freeswitch/directory?domain=192.0.2.10"
                   f"&agent_endpoint={endpoint}&sip_agents={sip}")
    # the engine reads the same secret and port (control.env): mod_xml_curl's Basic credentials
    assert binding["gateway-credentials"][0] == f"fs_cc:{secret}"
    assert binding["auth-scheme"][0] == "basic"
    assert port == "8022" and len(secret) >= 24 and secret != env_file(tmp_path)["FS_CC_ESL_URL"]
    # without a timeout mod_xml_curl waits for ever: every REGISTER and user/ call would
    assert 1 <= int(binding["timeout"][0]) <= 5
    assert oct((tmp_path / "fs_cc/control.env").stat().st_mode & 0o777) == "0o600"


def test_given_a_binding_url_when_the_engine_reads_its_query_then_it_describes_the_installed_switch(
        vanilla, tmp_path):
    fs = installed(vanilla, tmp_path, FS_CC_AGENT_ENDPOINT="loopback", FS_CC_SIP_AGENTS="1018 1019")
    (name,) = directory_binding(fs)
    url = next(value for param, value, _ in directory_binding(fs)[name] if param == "gateway-url")
    query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query, keep_blank_values=True))

    switch = SwitchBinding.from_query(query)

    assert switch.domain == fs.globals["domain"]
    assert (switch.mode.endpoint, switch.mode.sip_agents) == ("loopback", {"1018", "1019"})


def test_given_a_test_switch_when_installed_then_its_static_agents_are_what_the_engine_would_serve(
        vanilla, tmp_path):
    # one rule for both: install.sh's static fallback and fs_cc.directory agree user for user
    fs = installed(vanilla, tmp_path, FS_CC_AGENT_ENDPOINT="loopback", FS_CC_SIP_AGENTS="1018,1019")
    secret = control_env(tmp_path)["FS_CC_CONTROL_SECRET"]
    (name,) = directory_binding(fs)
    url = next(value for param, value, _ in directory_binding(fs)[name] if param == "gateway-url")
    switch = SwitchBinding.from_query(dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query)))
    domain = fs.globals["domain"]

    for ext, static in fs.users().items():
        variables = {v.get("name"): v.get("value") for v in static.iterfind("variables/variable")}
        catalog = Catalog.build([], [AgentDef(ext, variables["effective_caller_id_name"], (), {}, {})],
                                {}, None, 1)
        served = ET.fromstring(answer(catalog, {
            "section": "directory", "tag_name": "domain", "key_name": "name", "key_value": domain,
            "key": "id", "user": ext, "domain": domain}, switch, secret))
        user = served.find(f"section/domain/groups/group/users/user[@id='{ext}']")
        assert params(user) == params(static), ext
        assert {v.get("name"): v.get("value") for v in user.iterfind("variables/variable")} \
            == variables, ext


def test_given_control_secret_and_port_in_environment_when_installed_then_switch_and_engine_use_them(
        vanilla, tmp_path):
    fs = installed(vanilla, tmp_path, FS_CC_CONTROL_SECRET="engine-secret.from-vault_01",
                   FS_CC_CONTROL_PORT="18022")
    again = installed(vanilla, tmp_path)  # not given: kept

    for read in (fs, again):
        (name,) = directory_binding(read)
        binding = {param: value for param, value, _ in directory_binding(read)[name]}
        assert binding["gateway-credentials"] == "fs_cc:engine-secret.from-vault_01"
        assert binding["gateway-url"].startswith("http://127.0.0.1:18022/")
    assert control_env(tmp_path) == {"FS_CC_CONTROL_SECRET": "engine-secret.from-vault_01",
                                     "FS_CC_CONTROL_PORT": "18022"}


@pytest.mark.parametrize("env, name", [
    ({"FS_CC_CONTROL_SECRET": "ClueCon"}, "FS_CC_CONTROL_SECRET"),
    ({"FS_CC_CONTROL_SECRET": "with:colon-in-it"}, "FS_CC_CONTROL_SECRET"),
    ({"FS_CC_CONTROL_PORT": "80a"}, "FS_CC_CONTROL_PORT"),
    ({"FS_CC_CONTROL_PORT": "70000"}, "FS_CC_CONTROL_PORT"),
    ({"FS_CC_AGENT_PASSWORD_1000": "my-old-phone-password"}, "FS_CC_AGENT_PASSWORD_1000"),
])
def test_given_an_unusable_control_setting_when_installed_then_refused_and_nothing_written(
        vanilla, tmp_path, env, name):
    result = run_install(vanilla, tmp_path, FS_CC_AGENT_ENDPOINT="loopback", **env)

    assert result.returncode != 0
    assert name in result.stderr
    assert not (vanilla / "vars_fs_cc.xml").exists()
    assert not (tmp_path / "fs_cc/control.env").exists()


def test_given_a_test_switch_made_a_production_switch_when_installed_then_the_static_agents_go(
        vanilla, tmp_path):
    installed(vanilla, tmp_path, FS_CC_AGENT_ENDPOINT="loopback")

    result = run_install(vanilla, tmp_path, FS_CC_AGENT_ENDPOINT="sofia")

    assert result.returncode == 0, result.stderr
    assert "removed directory/default/fs_cc_agents.xml" in result.stdout
    assert Preprocessed(vanilla).users() == {}


def test_given_vanilla_modules_without_xml_curl_when_installed_then_it_is_loaded(vanilla, tmp_path):
    modules = vanilla / "autoload_configs/modules.conf.xml"
    vanilla_text = modules.read_text().replace('    <load module="mod_xml_curl"/>',
                                               '    <!-- <load module="mod_xml_curl"/> -->')
    modules.write_text(vanilla_text)

    result = run_install(vanilla, tmp_path)

    assert result.returncode == 0, result.stderr
    assert "WARNING" not in result.stdout
    loads = {load.get("module") for load in ET.parse(modules).iter("load")}
    assert "mod_xml_curl" in loads
    assert (vanilla / "autoload_configs/modules.conf.xml.fs_cc-orig").read_text() == vanilla_text


# --- the Vagrantfile -----------------------------------------------------------------

@pytest.mark.parametrize("step", [
    'config.vm.box = "debian/bookworm64"',
    'ENV.fetch("SIGNALWIRE_TOKEN"',
    "/etc/apt/auth.conf.d/freeswitch.conf",
    "https://freeswitch.signalwire.com/repo/deb/debian-release/",
    "signalwire-freeswitch-repo.gpg",
    "signed-by=",
    "freeswitch-meta-vanilla",
    "freeswitch-mod-loopback",
    "freeswitch-sounds-en-us-callie",
    "freeswitch-music-default",
    "redis-server",
    "postgresql",
    "python3.11",
    "python3.11 -m venv",
    "pip install -e '/vagrant[test]'",
    "/vagrant/freeswitch_conf/install.sh",
    "systemctl restart freeswitch",
    'forwarded_port", guest: 5000, host: 5000',
])
def test_given_vagrantfile_when_read_then_it_provisions(step):
    assert step in (ROOT / "Vagrantfile").read_text()


def test_given_vagrantfile_when_read_then_the_token_reaches_the_guest_only_through_the_environment():
    text = (ROOT / "Vagrantfile").read_text()
    assert re.search(r'env:\s*\{[^}]*"SIGNALWIRE_TOKEN"\s*=>', text)
    assert "#{ENV" not in text, "no host secret interpolated into the provisioning script"
    assert re.search(r"chmod 600 /etc/apt/auth.conf.d/freeswitch.conf", text)


# --- the browser softphone: WSS certificate, codecs ------------------------------------

OPENSSL = shutil.which("openssl")
needs_openssl = pytest.mark.skipif(OPENSSL is None, reason="openssl is not installed")


def make_pair(tmp_path, name):
    """A self-signed certificate and its key (PEM files) named name."""
    cert, key = tmp_path / f"{name}.crt", tmp_path / f"{name}.key"
    subprocess.run([OPENSSL, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-subj", f"/CN={name}", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True, timeout=60)
    return cert, key


def certificate_text(pem):
    """openssl's reading of the first certificate of a PEM file."""
    return subprocess.run([OPENSSL, "x509", "-noout", "-text", "-in", str(pem)], check=True,
                          capture_output=True, text=True, timeout=10).stdout


def test_given_modules_fragment_when_read_then_opus_is_loaded_for_browsers():
    conf = ET.parse(OVERLAY / "fragments/modules.conf.xml").getroot()
    assert "mod_opus" in {load.get("module") for load in conf.iter("load")}


def test_given_vanilla_conf_when_installed_then_profiles_prefer_opus_then_g711(vanilla, tmp_path):
    fs = installed(vanilla, tmp_path)

    for name in ("global_codec_prefs", "outbound_codec_prefs"):
        assert fs.globals[name] == "OPUS,G722,PCMU,PCMA"


def test_given_codecs_setting_when_installed_then_used_and_kept_on_the_next_run(vanilla, tmp_path):
    installed(vanilla, tmp_path, FS_CC_CODECS="PCMU,PCMA")
    fs = installed(vanilla, tmp_path)

    assert fs.globals["global_codec_prefs"] == "PCMU,PCMA"


@pytest.mark.parametrize("codecs", ["G722,G729", "OPUS;PCMU", "OPUS PCMU"])
def test_given_codecs_a_browser_cannot_use_when_installed_then_refused_and_nothing_written(
        vanilla, tmp_path, codecs):
    result = run_install(vanilla, tmp_path, FS_CC_CODECS=codecs)

    assert result.returncode != 0 and "FS_CC_CODECS" in result.stderr
    assert not (vanilla / "vars_fs_cc.xml").exists()


@needs_openssl
def test_given_no_certificate_configured_when_installed_then_a_self_signed_wss_pem_made_once(
        vanilla, tmp_path):
    installed(vanilla, tmp_path)
    pem = tmp_path / "certs" / "wss.pem"
    first = pem.read_text()
    installed(vanilla, tmp_path)

    assert pem.read_text() == first, "kept on the next run"
    assert "BEGIN CERTIFICATE" in first and "PRIVATE KEY" in first
    assert oct(pem.stat().st_mode & 0o777) == "0o640"
    assert "IP Address:127.0.0.1" in certificate_text(pem)


@needs_openssl
def test_given_a_configured_pair_when_installed_then_wss_pem_is_that_certificate_and_its_key(
        vanilla, tmp_path):
    installed(vanilla, tmp_path)  # a development certificate first
    cert, key = make_pair(tmp_path, "cc.example.org")

    result = run_install(vanilla, tmp_path, FS_CC_TLS_CERT=str(cert), FS_CC_TLS_KEY=str(key))

    assert result.returncode == 0, result.stderr
    pem = (tmp_path / "certs" / "wss.pem").read_text()
    assert cert.read_text().strip() in pem and key.read_text().strip() in pem
    assert pem.index("CERTIFICATE") < pem.index("PRIVATE KEY"), "sofia reads the certificate first"
    assert "CN = cc.example.org" in certificate_text(tmp_path / "certs" / "wss.pem")
    assert "sofia profile internal restart" in result.stdout


@needs_openssl
def test_given_a_key_not_of_the_certificate_when_installed_then_refused_and_nothing_written(
        vanilla, tmp_path):
    cert, _ = make_pair(tmp_path, "one")
    _, other_key = make_pair(tmp_path, "two")

    result = run_install(vanilla, tmp_path, FS_CC_TLS_CERT=str(cert), FS_CC_TLS_KEY=str(other_key))

    assert result.returncode != 0 and "is not the key of" in result.stderr
    assert not (vanilla / "vars_fs_cc.xml").exists()
    assert not (tmp_path / "certs" / "wss.pem").exists()


@pytest.mark.parametrize("given", ["FS_CC_TLS_CERT", "FS_CC_TLS_KEY"])
def test_given_half_a_pair_when_installed_then_refused_and_nothing_written(vanilla, tmp_path, given):
    half = tmp_path / "half.pem"
    half.write_text("-----BEGIN CERTIFICATE-----\n")

    result = run_install(vanilla, tmp_path, **{given: str(half)})

    assert result.returncode != 0 and "go together" in result.stderr
    assert not (vanilla / "vars_fs_cc.xml").exists()


@pytest.mark.parametrize("conf_dir, certs", [("/etc/freeswitch", "/etc/freeswitch/tls"),
                                             ("opt/fs/conf", "opt/fs/certs"),
                                             ("opt/fs/etc/freeswitch", "opt/fs/etc/freeswitch/tls")])
def test_given_a_layout_when_certs_dir_not_set_then_derived_from_the_conf_dir(tmp_path, conf_dir, certs):
    if not conf_dir.startswith("/"):
        conf_dir, certs = str(tmp_path / conf_dir), str(tmp_path / certs)
    script = INSTALL.read_text()
    case = script[script.index('if [ -z "$CERTS_DIR" ]; then'):script.index("# 1. Secrets")]
    result = subprocess.run(["bash", "-c", 'die() { echo "$*" >&2; exit 1; }\nCONF_DIR="$1"; CERTS_DIR=""\n'
                             + case + '\necho "$CERTS_DIR"', "x", conf_dir],
                            check=False, capture_output=True, text=True, timeout=10)
    assert result.stdout.strip() == certs, result.stderr


def test_given_internal_profile_without_wss_binding_when_installed_then_warns(vanilla, tmp_path):
    profile = vanilla / "sip_profiles" / "internal.xml"
    profile.parent.mkdir()
    profile.write_text('<profile name="internal"><settings>\n'
                       '    <!-- <param name="wss-binding" value=":7443"/> -->\n'
                       '</settings></profile>\n')

    result = run_install(vanilla, tmp_path)

    assert result.returncode == 0, result.stderr
    assert "has no wss-binding" in result.stdout
    profile.write_text('<profile name="internal"><settings>\n'
                       '    <param name="wss-binding" value=":7443"/>\n</settings></profile>\n')
    assert "wss-binding" not in run_install(vanilla, tmp_path).stdout
