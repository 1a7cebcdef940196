"""Config: default creation, and errors that name file, line and problem."""

from __future__ import annotations

from pathlib import Path

import pytest

from hub.config import CONFIG_FILE, load_config, validate_section
from hub.core import Hub
from hub.errors import ConfigError
from hub.schema import Field, Schema


def write(tmp_path: Path, text: str) -> Path:
    tmp_path.mkdir(parents=True, exist_ok=True)
    (tmp_path / CONFIG_FILE).write_text(text, encoding="utf-8")
    return tmp_path


def test_missing_dir_gets_a_working_default(tmp_path: Path) -> None:
    config = load_config(tmp_path / "new")
    assert (tmp_path / "new" / CONFIG_FILE).exists()
    assert "demo" in config.integrations
    assert config.location.latitude == pytest.approx(52.52)


@pytest.mark.parametrize(
    ("text", "line", "fragment"),
    [
        ("name: Home\nlocation:\n  latitude: 123\n", 3, "location.latitude: must be at most 90"),
        ("name: Home\ndemo: [1, 2]\n", 2, "demo: expected a mapping"),
        ("name: Home\nrecorder:\n  keep_days: x\n", 3, "keep_days: expected a number"),
        ("name: Home\nname: Again\n", 2, "duplicate key 'name' (first on line 1)"),
        ("name: Home\n  bad: indent\n", 2, "invalid YAML"),
        ("name: Home\nlanguage: 12\n", 2, "language must be a code"),
        ("name: Home\ndemo:\n  password: !secret nope\n", 3, "secrets.yaml does not exist"),
        ("- just\n- a list\n", 1, "must be a mapping"),
    ],
)
def test_errors_name_file_and_line(tmp_path: Path, text: str, line: int, fragment: str) -> None:
    write(tmp_path, text)
    with pytest.raises(ConfigError) as err:
        load_config(tmp_path)
    assert err.value.line == line, str(err.value)
    assert err.value.file and err.value.file.endswith(CONFIG_FILE)
    assert fragment in str(err.value)
    assert f"line {line}" in str(err.value)


def test_secrets_are_resolved(tmp_path: Path) -> None:
    write(tmp_path, "demo:\n  seed: !secret seed\n")
    (tmp_path / "secrets.yaml").write_text("seed: 42\n")
    assert load_config(tmp_path).integrations["demo"]["seed"] == 42


def test_integration_section_errors_point_at_the_key(tmp_path: Path) -> None:
    write(tmp_path, "name: Home\ndemo:\n  delay: 1\n  tick: -5\n")
    config = load_config(tmp_path)
    schema = Schema({"delay": Field("float"), "tick": Field("float", min=0.01)})
    with pytest.raises(ConfigError) as err:
        validate_section(config, "demo", schema)
    assert err.value.line == 4 and "demo.tick" in str(err.value)


async def test_unknown_integration_is_a_config_error(tmp_path: Path) -> None:
    write(tmp_path, "name: Home\n\nteleporter:\n  speed: 9\n")
    hub = Hub(load_config(tmp_path))
    with pytest.raises(ConfigError) as err:
        await hub.async_start()
    await hub.async_stop()
    assert err.value.line == 3 and "unknown integration 'teleporter'" in str(err.value)


async def test_bad_integration_option_is_a_config_error(tmp_path: Path) -> None:
    write(tmp_path, "demo:\n  delay: slow\n")
    hub = Hub(load_config(tmp_path))
    with pytest.raises(ConfigError) as err:
        await hub.async_start()
    await hub.async_stop()
    assert err.value.line == 2 and "demo.delay: expected a number" in str(err.value)


def test_port_variables_override_the_file_only_for_configured_sections(tmp_path: Path) -> None:
    write(tmp_path, "name: Home\nweb:\n  port: 8123\n  host: 127.0.0.1\n")
    env = {"HEARTH_WEB_PORT": "0", "HEARTH_MQTT_PORT": "18830"}
    config = load_config(tmp_path, env=env)
    assert dict(config.integrations["web"]) == {"port": 0, "host": "127.0.0.1"}
    assert "mqtt" not in config.integrations  # a variable never turns an integration on
    # Errors in the rest of the section still point at its lines.
    schema = Schema({"port": Field("int"), "host": Field("int")})
    with pytest.raises(ConfigError) as err:
        validate_section(config, "web", schema)
    assert err.value.line == 4
    assert load_config(tmp_path, env={}).integrations["web"]["port"] == 8123


@pytest.mark.parametrize("value", ["http", "-1", "70000"])
def test_bad_port_variable_is_a_clear_error(tmp_path: Path, value: str) -> None:
    write(tmp_path, "web:\n")
    with pytest.raises(ConfigError, match=r"\$HEARTH_WEB_PORT must be a port number"):
        load_config(tmp_path, env={"HEARTH_WEB_PORT": value})
