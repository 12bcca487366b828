"""The engine refuses a broken IVR flow and survives a wrong ESL password, as real processes."""

from tests.e2e.procs import Processes, free_port, port_open, wait_until


def test_given_invalid_main_flow_when_engine_starts_then_it_refuses_naming_file_and_line(tmp_path):
    flow = tmp_path / "main.yaml"
    flow.write_text("start: welcome\nnodes:\n  welcome:\n    type: dance\n")
    procs = Processes(tmp_path, {"FS_CC_VAR_DIR": str(tmp_path / "var"),
                                 "FS_CC_IVR_FLOW": str(flow),
                                 "FS_CC_ESL_URL": "127.0.0.1:9:ClueCon"})
    result = procs.run("engine", timeout=30)
    assert result.returncode == 2
    assert f"{flow}:4" in result.stderr and "dance" in result.stderr


def test_given_wrong_esl_password_when_engine_runs_then_clear_error_and_retries(tmp_path):
    ports = {name: free_port() for name in ("esl", "outbound", "control")}
    procs = Processes(tmp_path, {"FS_CC_VAR_DIR": str(tmp_path / "var"),
                                 "FS_CC_ESL_URL": f"127.0.0.1:{ports['esl']}:wrong",
                                 "FS_CC_OUTBOUND_PORT": str(ports["outbound"]),
                                 "FS_CC_CONTROL_PORT": str(ports["control"])})
    try:
        procs.start("emulator", "emulator", "--host", "127.0.0.1", "--port", str(ports["esl"]),
                    "--password", "ClueCon", "--traffic-cpm", "0")
        wait_until(lambda: port_open(ports["esl"]), 20, "emulator listening")
        procs.start("engine", "engine")
        wait_until(lambda: procs.log("engine").count("refused the ESL password") >= 2, 30,
                   "two refused attempts logged")
        assert procs.alive("engine")
        assert "Traceback" not in procs.log("engine")
    finally:
        procs.stop_all()
