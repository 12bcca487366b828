"""Settings are layered: defaults < file < environment < command line."""

import pytest

from fs_cc.config import EslTarget, load_settings
from fs_cc.errors import ConfigError


def test_given_nothing_configured_when_loaded_then_embedded_defaults(tmp_path):
    settings = load_settings(env={"FS_CC_VAR_DIR": str(tmp_path)})
    assert settings.database_url == f"sqlite:///{tmp_path}/fs_cc.sqlite"
    assert settings.broker_url == f"sqla+sqlite:///{tmp_path}/broker.sqlite"
    assert settings.esl is None
    assert len(settings.secret_key) == 64
    assert load_settings(env={"FS_CC_VAR_DIR": str(tmp_path)}).secret_key == settings.secret_key


def test_given_redis_url_when_loaded_then_broker_is_redis(tmp_path):
    settings = load_settings(env={"FS_CC_VAR_DIR": str(tmp_path),
                                  "REDIS_URL": "redis://127.0.0.1:6379/0"})
    assert settings.broker_url == "redis://127.0.0.1:6379/0"


def test_given_file_env_and_flags_when_loaded_then_later_layers_win(tmp_path):
    config = tmp_path / "fs_cc.yaml"
    config.write_text("web_port: 7000\ncontrol_port: 7001\noutbound_port: 7002\n")
    settings = load_settings(config_file=config, env={"FS_CC_VAR_DIR": str(tmp_path),
                                                      "FS_CC_CONTROL_PORT": "8001"},
                             overrides={"outbound_port": 9002})
    assert (settings.web_port, settings.control_port, settings.outbound_port) == (7000, 8001, 9002)


def test_given_esl_url_forms_when_parsed_then_host_port_password():
    assert EslTarget.parse("esl://:s3cret@10.0.0.5:8021") == EslTarget("10.0.0.5", 8021, "s3cret")
    assert EslTarget.parse("fs1:8021:pw:with:colons") == EslTarget("fs1", 8021, "pw:with:colons")
    with pytest.raises(ConfigError, match="HOST:PORT:PASSWORD"):
        EslTarget.parse("just-a-host")


def test_given_bad_file_when_loaded_then_error_names_file_line_or_setting(tmp_path):
    broken = tmp_path / "broken.yaml"
    broken.write_text("web_port: 1\n  bad: [\n")
    with pytest.raises(ConfigError) as yaml_error:
        load_settings(config_file=broken, env={"FS_CC_VAR_DIR": str(tmp_path)})
    assert str(broken) in str(yaml_error.value) and ":2:" in str(yaml_error.value)
    unknown = tmp_path / "unknown.yaml"
    unknown.write_text("web_prot: 1\n")
    with pytest.raises(ConfigError, match="unknown setting.*web_prot"):
        load_settings(config_file=unknown, env={"FS_CC_VAR_DIR": str(tmp_path)})
    with pytest.raises(ConfigError, match="web_port"):
        load_settings(env={"FS_CC_VAR_DIR": str(tmp_path), "FS_CC_WEB_PORT": "many"})
