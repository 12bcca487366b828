"""Layered settings: defaults < config file (YAML) < environment < command line.

Nothing here runs at import time; every process calls :func:`load_settings` once and passes the
result to what it builds.
"""

import dataclasses
import logging
import os
import pathlib
import secrets
import stat
import typing
import urllib.parse

import yaml

from fs_cc.errors import ConfigError

logger = logging.getLogger(__name__)

REPO_ROOT = pathlib.Path(__file__).resolve().parent.parent
# var/ holds the database, logs, secrets, recordings: files 0600 and folders 0700 by the process
# umask of every fs-cc command (fs_cc.cli); group write or any access by others is "loose"
PRIVATE_UMASK = 0o077
LOOSE_MODE_BITS = 0o027


def _default_agents():
    agents = []
    for number in range(1000, 1010):
        queues = ["sales", "support"] if number % 2 == 0 else ["support", "sales"]
        agents.append({"extension": str(number), "name": f"Agent {number}", "queues": queues})
    return agents


def _default_queues():
    return [
        {"name": "sales", "strategy": "longest-idle", "moh": "local_stream://moh"},
        {"name": "support", "strategy": "longest-idle", "moh": "local_stream://moh"},
    ]


@dataclasses.dataclass
class EslTarget:
    """Where FreeSWITCH's inbound event socket listens."""

    host: str
    port: int
    password: str

    @classmethod
    def parse(cls, text):
        """Parse ``esl://:PASSWORD@HOST:PORT`` or ``HOST:PORT:PASSWORD``."""
        text = text.strip()
        if "://" in text:
            url = urllib.parse.urlsplit(text)
            if url.scheme != "esl" or not url.hostname:
                raise ConfigError(f"ESL URL {text!r} is not esl://:PASSWORD@HOST:PORT")
            password = urllib.parse.unquote(url.password or url.username or "")
            return cls(url.hostname, url.port or 8021, password)
        parts = text.split(":", 2)
        if len(parts) != 3 or not parts[1].isdigit():
            raise ConfigError(f"ESL address {text!r} is not HOST:PORT:PASSWORD")
        return cls(parts[0], int(parts[1]), parts[2])


@dataclasses.dataclass
class Settings:
    """Every setting of an fs_cc deployment, resolved."""

    var_dir: pathlib.Path
    database_url: str
    broker_url: str
    redis_url: typing.Optional[str]
    secret_key: str
    # what the web app and tasks show the engine's control interface (Bearer); load_settings
    # always sets it, from $FS_CC_CONTROL_SECRET or generated once into var/control_secret
    control_secret: typing.Optional[str] = None
    control_host: str = "127.0.0.1"
    control_port: int = 8022
    outbound_host: str = "127.0.0.1"
    outbound_port: int = 8084
    esl: typing.Optional[EslTarget] = None  # None: use the built-in emulator
    ivr_flow: pathlib.Path = REPO_ROOT / "ivr_flows" / "main.yaml"
    # where the flows' sounds must be ($${sounds_dir} of the switch as this host sees it); the
    # engine refuses a flow that names a sound missing there. Default: the prompts fs_cc ships,
    # which the emulator plays and install.sh copies onto a switch
    sounds_dir: pathlib.Path = REPO_ROOT / "freeswitch_conf" / "sounds"
    # a switch on another machine: where it fetches the spoken prompts (mod_http_cache), the
    # engine's control interface as it reaches it, e.g. http://10.0.0.5:8022/prompts
    prompt_url: str = ""
    # how often the engine looks for changed flow files (seconds; 0: never, reload by command)
    flow_watch_seconds: float = 2.0
    state_store: str = "memory"
    web_host: str = "127.0.0.1"
    web_port: int = 5000
    ring_timeout: int = 20
    # recording queued calls (docs/recordings.rst): off, mixed or stereo (caller left, agent
    # right) unless the queue says otherwise; where the switch writes them (as the switch sees
    # it; default var/recordings), and how many days they are kept before the worker deletes them
    record_calls: str = "off"
    recordings_dir: typing.Optional[pathlib.Path] = None
    recording_retention_days: int = 90
    # how a callback reaches the customer; {number} is the number to call back
    callback_dial: str = "loopback/{number}/default"
    # callbacks (docs/callbacks.rst): the caller id the customer sees, how long their phone
    # rings, how many calls and after which pauses (seconds, the last repeats) before giving up,
    # and how often the worker re-sends open requests to the engines (beat)
    callback_caller_id: str = ""
    callback_ring_seconds: int = 45
    callback_max_attempts: int = 3
    callback_retry_delays: str = "120,600"
    callback_resend_seconds: float = 30.0
    # how often the engine checks its agents against the switch's channels (0: on reconnects
    # only), so that a lost hangup event never leaves an agent "on call" for ever
    reconcile_seconds: float = 60.0
    # a caller who hangs up within this many seconds of joining a queue is a short abandon,
    # counted apart in the queues' figures (fs_cc.acd.figures)
    short_abandon_seconds: float = 5.0
    esl_connect_timeout: float = 5.0  # seconds to wait for FreeSWITCH's auth/request
    esl_backoff_max: float = 30.0  # reconnect delays double from 0.5 s up to this
    # the worker's longest wait between tries of a task while the database is down: a record
    # is stored at most this long after the database is back
    record_retry_max_seconds: float = 60.0
    queues: list = dataclasses.field(default_factory=_default_queues)
    agents: list = dataclasses.field(default_factory=_default_agents)
    agents_auto_login: bool = False  # `up` turns it on for the emulator's simulated agents
    # the switch at ``esl`` is fs_cc's own emulator (`up` says so to the processes it starts):
    # the agents' phones are simulated, the desktop has no softphone to register
    emulated: bool = False
    # simulated time runs 4x faster than real time on the demo, so calls end within a minute;
    # 3 simulated callers a minute keep 10 agents busy without an endless queue
    emulator_speed: float = 4.0
    emulator_traffic_cpm: float = 3.0
    emulator_seed: typing.Optional[int] = None
    emulator_port: int = 8021
    display_timezone: str = "UTC"  # IANA name for times shown on pages
    # the browser softphone (web.desktop.softphone): the switch's secure WebSocket and the SIP
    # domain its users register in; None: wss://<the page's host>:7443 and that host
    softphone_wss_url: typing.Optional[str] = None
    softphone_sip_domain: typing.Optional[str] = None
    # the session cookie goes over HTTPS only; set it behind a TLS proxy (a request that came
    # over HTTPS gets the flag anyway)
    session_cookie_secure: bool = False
    session_idle_minutes: float = 30.0  # a login ends after this long without a request
    session_max_hours: float = 12.0  # and this long after it began, whatever happens
    login_lockout_minutes: float = 15.0  # an account or address locked by failed logins
    # IVR messages (docs/ivr.rst: voicemail, sms), sent by the worker (web.messages): the SMTP
    # server voicemail notices go through, who they are from and to (per box in
    # voicemail_emails, {"queue:support": "lead@example.com"}; else voicemail_email_to), and the
    # SMS gateway: "log" (the embedded default: written to the log, never delivered) or "http"
    # (a JSON POST of number and text to sms_http_url), tried sms_max_attempts times
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 25
    smtp_from: str = "fs-cc@localhost"
    smtp_user: str = ""
    smtp_password: str = ""
    smtp_starttls: bool = False
    voicemail_email_to: str = ""
    voicemail_emails: dict = dataclasses.field(default_factory=dict)
    # the wallboard's colours (web.supervisor): per figure, [warn, alarm]; higher is worse for
    # waiting and longest_wait (seconds), lower is worse for the service levels (0-1)
    wallboard_thresholds: dict = dataclasses.field(default_factory=dict)
    voicemail_attach_max_kb: int = 5120  # a larger message is linked (its path), not attached
    sms_gateway: str = "log"
    sms_http_url: str = ""
    sms_http_token: str = ""
    sms_max_attempts: int = 5
    # speech recognition for menus answered by voice (fs_cc.ivr.asr): "none" or "pocketsphinx"
    asr: str = "none"
    sms_retry_seconds: float = 30.0  # the first retry's delay; each next one doubles

    @property
    def control_url(self):
        """Base URL of the engine's control interface."""
        return f"http://{self.control_host}:{self.control_port}"

    @property
    def recordings_root(self):
        """Where call recordings go: ``recordings_dir``, or var/recordings."""
        return pathlib.Path(self.recordings_dir) if self.recordings_dir else self.var_dir / "recordings"

    @property
    def outbox_path(self):
        """The engine's durable spool of call records not yet handed to the broker."""
        return self.var_dir / "engine-outbox.sqlite"


_ENV = {
    "FS_CC_VAR_DIR": "var_dir",
    "FS_CC_DATABASE_URL": "database_url",
    "FS_CC_BROKER_URL": "broker_url",
    "REDIS_URL": "redis_url",
    "FS_CC_SECRET_KEY": "secret_key",
    "FS_CC_CONTROL_SECRET": "control_secret",
    "FS_CC_ESL_URL": "esl",
    "FS_CC_IVR_FLOW": "ivr_flow",
    "FS_CC_SOUNDS_DIR": "sounds_dir",
    "FS_CC_PROMPT_URL": "prompt_url",
    "FS_CC_FLOW_WATCH_SECONDS": "flow_watch_seconds",
    "FS_CC_STATE_STORE": "state_store",
    "FS_CC_CONTROL_HOST": "control_host",
    "FS_CC_CONTROL_PORT": "control_port",
    "FS_CC_OUTBOUND_HOST": "outbound_host",
    "FS_CC_OUTBOUND_PORT": "outbound_port",
    "FS_CC_WEB_PORT": "web_port",
    "FS_CC_EMULATOR_SPEED": "emulator_speed",
    "FS_CC_EMULATOR_TRAFFIC_CPM": "emulator_traffic_cpm",
    "FS_CC_EMULATOR_PORT": "emulator_port",
    "FS_CC_DISPLAY_TIMEZONE": "display_timezone",
    "FS_CC_SOFTPHONE_WSS_URL": "softphone_wss_url",
    "FS_CC_SOFTPHONE_SIP_DOMAIN": "softphone_sip_domain",
    "FS_CC_AGENTS_AUTO_LOGIN": "agents_auto_login",
    "FS_CC_EMULATED": "emulated",
    "FS_CC_CALLBACK_DIAL": "callback_dial",
    "FS_CC_RECORD_CALLS": "record_calls",
    "FS_CC_RECORDINGS_DIR": "recordings_dir",
    "FS_CC_RECORDING_RETENTION_DAYS": "recording_retention_days",
    "FS_CC_CALLBACK_CALLER_ID": "callback_caller_id",
    "FS_CC_CALLBACK_RING_SECONDS": "callback_ring_seconds",
    "FS_CC_CALLBACK_MAX_ATTEMPTS": "callback_max_attempts",
    "FS_CC_CALLBACK_RETRY_DELAYS": "callback_retry_delays",
    "FS_CC_CALLBACK_RESEND_SECONDS": "callback_resend_seconds",
    "FS_CC_RECONCILE_SECONDS": "reconcile_seconds",
    "FS_CC_SHORT_ABANDON_SECONDS": "short_abandon_seconds",
    "FS_CC_ESL_CONNECT_TIMEOUT": "esl_connect_timeout",
    "FS_CC_ESL_BACKOFF_MAX": "esl_backoff_max",
    "FS_CC_RECORD_RETRY_MAX_SECONDS": "record_retry_max_seconds",
    "FS_CC_SESSION_COOKIE_SECURE": "session_cookie_secure",
    "FS_CC_SESSION_IDLE_MINUTES": "session_idle_minutes",
    "FS_CC_SESSION_MAX_HOURS": "session_max_hours",
    "FS_CC_LOGIN_LOCKOUT_MINUTES": "login_lockout_minutes",
    "FS_CC_SMTP_HOST": "smtp_host",
    "FS_CC_SMTP_PORT": "smtp_port",
    "FS_CC_SMTP_FROM": "smtp_from",
    "FS_CC_SMTP_USER": "smtp_user",
    "FS_CC_SMTP_PASSWORD": "smtp_password",
    "FS_CC_SMTP_STARTTLS": "smtp_starttls",
    "FS_CC_VOICEMAIL_EMAIL_TO": "voicemail_email_to",
    "FS_CC_SMS_GATEWAY": "sms_gateway",
    "FS_CC_SMS_HTTP_URL": "sms_http_url",
    "FS_CC_SMS_HTTP_TOKEN": "sms_http_token",
    "FS_CC_SMS_MAX_ATTEMPTS": "sms_max_attempts",
    "FS_CC_ASR": "asr",
}
_FIELDS = {field.name: field for field in dataclasses.fields(Settings)}


def _read_file(path):
    try:
        with open(path, encoding="utf-8") as handle:
            data = yaml.safe_load(handle) or {}
    except OSError as exc:
        raise ConfigError(f"cannot read configuration: {exc.strerror}", path=path) from exc
    except yaml.YAMLError as exc:
        line = getattr(getattr(exc, "problem_mark", None), "line", None)
        raise ConfigError(f"not valid YAML: {exc}", path=path,
                          line=None if line is None else line + 1) from exc
    if not isinstance(data, dict):
        raise ConfigError("the top level must be a mapping of setting: value", path=path)
    unknown = sorted(set(data) - set(_FIELDS) - {"control_url"})
    if unknown:
        raise ConfigError(f"unknown setting(s): {', '.join(unknown)}", path=path)
    return data


def _coerce(name, value, source):
    field = _FIELDS[name]
    if value is None:
        return None
    try:
        if name == "esl":
            return value if isinstance(value, EslTarget) else EslTarget.parse(str(value))
        if name in ("var_dir", "ivr_flow", "sounds_dir", "recordings_dir"):
            return pathlib.Path(value)
        if field.type is int or field.type == "int":
            return int(value)
        if field.type is float or field.type == "float":
            return float(value)
        if field.type is bool or field.type == "bool":
            if isinstance(value, str):
                return value.strip().lower() in ("1", "true", "yes", "on")
            return bool(value)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"setting {name!r} from {source}: {value!r} is not valid ({exc})") from exc
    return value


def load_settings(config_file=None, env=None, overrides=None):
    """Resolve settings from defaults, a YAML file, the environment and explicit overrides."""
    env = os.environ if env is None else env
    values = {}
    config_file = config_file or env.get("FS_CC_CONFIG")
    if config_file is None and pathlib.Path("fs_cc.yaml").is_file():
        config_file = "fs_cc.yaml"
    if config_file:
        for name, value in _read_file(config_file).items():
            if name != "control_url":
                values[name] = _coerce(name, value, config_file)
    for key, name in _ENV.items():
        if env.get(key):
            values[name] = _coerce(name, env[key], f"${key}")
    for name, value in (overrides or {}).items():
        if value is not None:
            if name not in _FIELDS:
                raise ConfigError(f"unknown setting {name!r}")
            values[name] = _coerce(name, value, "the command line")

    var_dir = pathlib.Path(values.pop("var_dir", "var")).resolve()
    secure_var_dir(var_dir)
    redis_url = values.pop("redis_url", None)
    database_url = values.pop("database_url", None) or f"sqlite:///{var_dir / 'fs_cc.sqlite'}"
    broker_url = (values.pop("broker_url", None) or redis_url
                  or f"sqla+sqlite:///{var_dir / 'broker.sqlite'}")
    secret_key = values.pop("secret_key", None) or _stored_secret(var_dir)
    control_secret = (values.pop("control_secret", None)
                      or _stored_secret(var_dir, "control_secret"))
    return Settings(var_dir=var_dir, database_url=database_url, broker_url=broker_url,
                    redis_url=redis_url, secret_key=secret_key, control_secret=control_secret,
                    **values)


def _stored_secret(var_dir, name="secret_key"):
    # every process of one deployment shares var/, so engine and web read the same secret
    path = var_dir / name
    if not path.exists():
        # written whole under another name, created 0600 (never readable by others, not even
        # for a moment), then linked in: of two processes starting at once, one secret wins
        draft = path.with_name(f".{name}.{os.getpid()}.{secrets.token_hex(4)}")
        with os.fdopen(os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as out:
            out.write(secrets.token_hex(32))
        try:
            os.link(draft, path)
        except FileExistsError:
            pass
        finally:
            draft.unlink()
    return path.read_text().strip()


def secure_var_dir(var_dir):
    """Create ``var_dir`` (0700) and take from what is in it any access other users have.

    A var/ made before this rule, or copied with loose modes, is tightened here at every start:
    group write and every bit of "others" are removed (0750 and 0640, a group's deliberate
    read access, are left alone). Symbolic links are neither followed nor changed. Logged as a
    warning naming what changed; returns the paths tightened.
    """
    var_dir = pathlib.Path(var_dir)
    var_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    tightened = []
    for path in _tree(var_dir):
        try:
            mode = stat.S_IMODE(path.lstat().st_mode)
            if mode & LOOSE_MODE_BITS:
                path.chmod(mode & 0o700)
                name = path.relative_to(var_dir.parent)
                tightened.append(f"{name} {mode:04o}->{mode & 0o700:04o}")
        except OSError as exc:  # another user's file (a switch's recording): say so, go on
            logger.warning("%s: modes not checked: %s", path, exc.strerror)
    if tightened:
        shown = ", ".join(tightened[:10]) + (f" and {len(tightened) - 10} more"
                                              if len(tightened) > 10 else "")
        logger.warning("%s: %s file(s) and folder(s) were open to other users; now only this "
                       "user may read them: %s", var_dir, len(tightened), shown)
    return tightened


def _tree(root):
    # var/ itself, then everything below it; not through symbolic links
    yield root
    pending = [root]
    while pending:
        try:
            entries = list(os.scandir(pending.pop()))
        except OSError as exc:
            logger.warning("%s: not checked: %s", exc.filename, exc.strerror)
            continue
        for entry in entries:
            if entry.is_symlink():
                continue
            path = pathlib.Path(entry.path)
            yield path
            if entry.is_dir(follow_symlinks=False):
                pending.append(path)
