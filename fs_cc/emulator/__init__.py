"""The FreeSWITCH emulator: a real ESL server with simulated phones, customers and callers."""

from fs_cc.emulator.cli import main
from fs_cc.emulator.config import EmulatorConfig, load_config
from fs_cc.emulator.core import Emulator
from fs_cc.emulator.endpoints import Gateway, Phone
from fs_cc.emulator.traffic import TrafficProfile

__all__ = ["Emulator", "EmulatorConfig", "Gateway", "Phone", "TrafficProfile", "load_config", "main"]
