"""The engine's control interface over real HTTP on a loopback port."""

import pytest

from fs_cc.control import ControlClient, ControlRefused, ControlServer, ControlUnavailable


class Backend:
    """An engine-side backend with two agents."""

    def __init__(self):
        self.status = {"1000": "logged_out", "1001": "available"}

    def agents(self):
        return [{"extension": ext, "status": st} for ext, st in sorted(self.status.items())]

    def queues(self):
        return [{"name": "sales", "waiting": 0, "available": 1}]

    def calls(self):
        return []

    def set_agent_status(self, extension, status):
        if extension not in self.status:
            raise KeyError(extension)
        if status not in ("available", "logged_out", "break"):
            raise ValueError(f"unknown status {status!r}")
        self.status[extension] = status
        return {"extension": extension, "status": status}


@pytest.fixture
def control():
    backend = Backend()
    server = ControlServer(backend, port=0)
    server.start()
    host, port = server.address
    yield backend, ControlClient(f"http://{host}:{port}")
    server.stop()


def test_given_engine_when_agents_listed_then_live_states_returned(control):
    _, client = control
    assert client.agents() == [{"extension": "1000", "status": "logged_out"},
                               {"extension": "1001", "status": "available"}]
    assert client.queues()[0]["name"] == "sales"


def test_given_agent_when_status_set_then_engine_state_changes(control):
    backend, client = control
    assert client.set_agent_status("1000", "available") == {"extension": "1000",
                                                            "status": "available"}
    assert backend.status["1000"] == "available"


def test_given_unknown_agent_or_status_when_set_then_refused_naming_field(control):
    _, client = control
    with pytest.raises(ControlRefused) as unknown:
        client.set_agent_status("9999", "available")
    assert unknown.value.status == 404 and unknown.value.field == "extension"
    with pytest.raises(ControlRefused) as bad:
        client.set_agent_status("1000", "dancing")
    assert bad.value.status == 409 and bad.value.field == "status"


def test_given_no_engine_when_client_asks_then_unavailable():
    client = ControlClient("http://127.0.0.1:9", timeout=0.5)
    with pytest.raises(ControlUnavailable):
        client.agents()
