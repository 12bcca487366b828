"""Fixtures shared by the emulator's behaviour tests."""

import socket

import pytest

from fs_cc.emulator import Emulator, EmulatorConfig, Gateway, Phone


@pytest.fixture
def listener():
    """A TCP socket on a free port standing in for the engine's outbound server."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    yield sock
    sock.close()


@pytest.fixture
def emu(listener):
    host, port = listener.getsockname()
    config = EmulatorConfig(speed=50, socket_target="%s:%d" % (host, port),
                            phones=[Phone(str(ext), answer_delay=0.5) for ext in range(1000, 1006)],
                            gateways=[Gateway("pstn", answer_probability=1.0, busy_probability=0.0,
                                              ring_seconds=(1, 1)),
                                      Gateway("machines", answer_probability=1.0, busy_probability=0.0,
                                              ring_seconds=(1, 1), machine_probability=1.0,
                                              greeting_seconds=4.0, beep=True)],
                            seed=3)
    emulator = Emulator(config)
    emulator.start()
    yield emulator
    emulator.stop()


