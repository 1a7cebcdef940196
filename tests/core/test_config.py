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
