"""EmulatorConfig and its loading from YAML and command-line overrides."""

from dataclasses import dataclass, field

import yaml

from fs_cc.emulator.dialplan import default_dialplan
from fs_cc.emulator.directory import XmlCurlBinding
from fs_cc.emulator.endpoints import Gateway, Phone, default_phones
from fs_cc.emulator.traffic import TrafficProfile
from fs_cc.sounds import SHIPPED_SOUNDS


@dataclass
class EmulatorConfig:
    """Everything the emulator needs; port 0 binds a free port."""
    host: str = "127.0.0.1"
    port: int = 0
    password: str = "ClueCon"
    speed: float = 1.0
    socket_target: str = "127.0.0.1:8084"
    dialplan: dict = None
    phones: list = field(default_factory=default_phones)
    gateways: list = field(default_factory=lambda: [Gateway("pstn")])
    traffic: TrafficProfile = None
    hostname: str = "fs-cc-emulator"
    heartbeat_seconds: float = 20.0
    seed: int = None
    # $${sounds_dir}: relative sounds are read from its en/us/callie (sound_prefix), and a file
    # missing there fails as on FreeSWITCH; by default the prompts install.sh puts on a switch
    sounds_dir: str = str(SHIPPED_SOUNDS)
    # the directory section's mod_xml_curl binding (freeswitch_conf's xml_curl.conf.xml points it
    # at the engine); None: the static directory (phones) alone
    xml_curl: XmlCurlBinding = None

    def __post_init__(self):
        if self.dialplan is None:
            # its `socket` reads ${fs_cc_engine_socket}, which follows socket_target even when a
            # test changes socket_target after the emulator started
            self.dialplan = default_dialplan()


def load_config(path, **overrides):
    """Build an EmulatorConfig from a YAML file, then apply non-None overrides."""
    with open(path, encoding="utf-8") as handle:
        data = yaml.safe_load(handle) or {}
    kwargs = {k: data[k] for k in ("host", "port", "password", "speed", "socket_target",
                                   "hostname", "heartbeat_seconds", "seed", "sounds_dir") if k in data}
    if "phones" in data:
        kwargs["phones"] = [Phone(**p) for p in data["phones"]]
    if "gateways" in data:
        kwargs["gateways"] = [Gateway(**g) for g in data["gateways"]]
    if data.get("traffic"):
        kwargs["traffic"] = TrafficProfile(**data["traffic"])
    if "dialplan" in data:
        kwargs["dialplan"] = data["dialplan"]
    if data.get("xml_curl"):
        # the binding's params by their xml_curl.conf.xml names: gateway-url, gateway-credentials
        kwargs["xml_curl"] = XmlCurlBinding(**{k.replace("-", "_"): v
                                               for k, v in data["xml_curl"].items()})
    kwargs.update({k: v for k, v in overrides.items() if v is not None})
    return EmulatorConfig(**kwargs)
