"""Configuration: one YAML file in a config directory; every error names file and line."""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .errors import ConfigError
from .schema import Field, Schema, ValidationErrors

__all__ = [
    "CONFIG_FILE",
    "DEFAULT_CONFIG_DIR",
    "ENV_OVERRIDES",
    "HubConfig",
    "LineDict",
    "Location",
    "load_config",
    "reader_error",
    "validate_section",
]

_LOGGER = logging.getLogger(__name__)
CONFIG_FILE = "configuration.yaml"
SECRETS_FILE = "secrets.yaml"
DEFAULT_CONFIG_DIR = Path("hearth-data")
CORE_KEYS = frozenset({"name", "language", "location", "recorder", "logging", "units"})
# Ports a second hub (tests, benchmarks, a trial run next to a real home) must move off the
# defaults of the file. They change a section only if the file turns that integration on.
ENV_OVERRIDES: Mapping[str, tuple[str, str]] = {
    "HEARTH_WEB_PORT": ("web", "port"),
    "HEARTH_MQTT_PORT": ("mqtt", "embedded_port"),
}

DEFAULT_CONFIG = """\
# Hearth configuration. Each top-level key other than the core ones below turns on an
# integration (a mapping of its options, or nothing for its defaults).
name: Home
language: en
location:
  latitude: 52.52
  longitude: 13.40
  elevation: 34
  time_zone: Europe/Berlin
recorder:
  keep_days: 10

# A simulated home to explore; remove it once real devices are paired.
demo:

# The dashboard and API on the LAN.
web:
  port: 8123

# Voice control (wake word, speech-to-text, intents, spoken replies).
voice:

# Rules: rules.yaml in this folder.
rules:

# Wi-Fi appliances over MQTT. With no `broker:` set, Hearth runs its own broker: plaintext on
# loopback only, one account per paired appliance; `lan_listener: true` adds TLS on the LAN.
mqtt:

# Announce the hub on the LAN (_hearth._tcp) and find devices for pairing.
zeroconf:
"""

_LOCATION_SCHEMA = Schema(
    {
        "latitude": Field("float", min=-90, max=90, default=52.52),
        "longitude": Field("float", min=-180, max=180, default=13.40),
        "elevation": Field("float", default=0.0),
        "time_zone": Field("str", default="UTC"),
    }
)
_RECORDER_SCHEMA = Schema(
    {
        "keep_days": Field("float", min=0, default=10.0),
        "commit_interval": Field("float", min=0.01, max=60, default=0.5),
        "exclude": Field("str_list", default=[]),
    }
)
_LOGGING_SCHEMA = Schema(
    {
        "level": Field(
            "enum", choices=("debug", "info", "warning", "error", "critical"), default="info"
        ),
        "loggers": Field("dict", default={}),
    }
)


class LineDict(dict[str, Any]):
    """A YAML mapping that remembers the line of each key (1-based)."""

    line: int = 0
    lines: dict[str, int]

    def line_of(self, key: str) -> int:
        """The line of a key, else of the mapping itself."""
        return self.lines.get(key, self.line)


@dataclass(frozen=True, slots=True)
class Location:
    """Where the home is (for sunrise/sunset and time zone)."""

    latitude: float = 52.52
    longitude: float = 13.40
    elevation: float = 0.0
    time_zone: str = "UTC"


@dataclass(frozen=True, slots=True)
class HubConfig:
    """The parsed configuration of one home."""

    config_dir: Path
    file: Path
    name: str = "Home"
    language: str = "en"
    location: Location = field(default_factory=Location)
    recorder: Mapping[str, Any] = field(default_factory=dict)
    logging: Mapping[str, Any] = field(default_factory=dict)
    integrations: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    lines: Mapping[str, int] = field(default_factory=dict)

    @classmethod
    def minimal(cls, config_dir: Path, **integrations: Mapping[str, Any]) -> HubConfig:
        """A config with no file behind it (tests and tools)."""
        return cls(
            config_dir=config_dir,
            file=config_dir / CONFIG_FILE,
            recorder=_RECORDER_SCHEMA.check({}),
            logging=_LOGGING_SCHEMA.check({}),
            integrations=integrations,
        )

    def section_line(self, domain: str) -> int | None:
        """Line of an integration's section in the file."""
        return self.lines.get(domain)


def load_config(
    config_dir: Path | str | None = None, env: Mapping[str, str] | None = None
) -> HubConfig:
    """Load the config directory, creating it with a working default if missing.

    Port variables in env (default: the process environment) override the file; see ENV_OVERRIDES.
    """
    config_dir = Path(config_dir or DEFAULT_CONFIG_DIR)
    path = config_dir / CONFIG_FILE
    if not path.exists():
        config_dir.mkdir(parents=True, exist_ok=True)
        path.write_text(DEFAULT_CONFIG, encoding="utf-8")
        _LOGGER.info("Created a default configuration in %s", path)
    raw = _load_yaml(path)
    if raw is None:
        _LOGGER.warning(
            "%s is empty (or only comments): the hub starts with no integrations. "
            "Delete it to get a working default.",
            path,
        )
        raw = LineDict()
        raw.lines = {}
    if not isinstance(raw, LineDict):
        raise ConfigError("the file must be a mapping of keys to values", str(path), 1)
    file = str(path)
    location = _section(raw, "location", _LOCATION_SCHEMA, file)
    recorder = _section(raw, "recorder", _RECORDER_SCHEMA, file)
    logging_cfg = _section(raw, "logging", _LOGGING_SCHEMA, file)
    name = raw.get("name", "Home")
    if not isinstance(name, str) or not name.strip():
        raise ConfigError("name must be non-empty text", file, raw.line_of("name"))
    language = raw.get("language", "en")
    if not isinstance(language, str) or not language.isalpha() or len(language) > 8:
        raise ConfigError(
            f"language must be a code like en or zh, not {language!r}",
            file,
            raw.line_of("language"),
        )
    integrations: dict[str, Mapping[str, Any]] = {}
    for key, value in raw.items():
        if key in CORE_KEYS:
            continue
        if not isinstance(key, str):
            raise ConfigError(f"keys must be text, not {key!r}", file, raw.line)
        if value is None:
            value = LineDict()
            value.lines = {}
            value.line = raw.line_of(key)
        if not isinstance(value, Mapping):
            raise ConfigError(
                f"{key}: expected a mapping of options (or nothing), got {_kind(value)}",
                file,
                raw.line_of(key),
            )
        integrations[key] = value
    _apply_env_overrides(integrations, os.environ if env is None else env, file)
    return HubConfig(
        config_dir=config_dir,
        file=path,
        name=name.strip(),
        language=language,
        location=Location(**location),
        recorder=recorder,
        logging=logging_cfg,
        integrations=integrations,
        lines=dict(raw.lines),
    )


def validate_section(
    config: HubConfig, domain: str, schema: Schema, data: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """Validate an integration's section; errors name the file and the offending line."""
    section = config.integrations.get(domain, {}) if data is None else data
    try:
        return schema.check(section)
    except ValidationErrors as err:
        key, problem = next(iter(err.errors.items()))
        line = (
            section.line_of(key) if isinstance(section, LineDict) else config.section_line(domain)
        )
        raise ConfigError(f"{domain}.{key}: {problem}", str(config.file), line) from None


# -- YAML with line numbers -------------------------------------------------------------
class _LineLoader(yaml.SafeLoader):
    """Builds LineDicts and reports duplicate keys."""


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> LineDict:
    loader.flatten_mapping(node)
    out = LineDict()
    out.line = node.start_mark.line + 1
    out.lines = {}
    for key_node, value_node in node.value:
        if not isinstance(key_node, yaml.ScalarNode):
            raise ConfigError(
                "mapping keys must be plain values", loader.name, key_node.start_mark.line + 1
            )
        key = str(loader.construct_object(key_node, deep=True))
        if key in out:
            raise ConfigError(
                f"duplicate key {key!r} (first on line {out.lines[key]})",
                loader.name,
                key_node.start_mark.line + 1,
            )
        out[key] = loader.construct_object(value_node, deep=True)
        out.lines[key] = key_node.start_mark.line + 1
    return out


def _construct_secret(loader: _LineLoader, node: yaml.ScalarNode) -> Any:
    name = loader.construct_scalar(node)
    line = node.start_mark.line + 1
    secrets_path = Path(loader.name).parent / SECRETS_FILE
    if not secrets_path.exists():
        raise ConfigError(f"!secret {name}: {secrets_path} does not exist", loader.name, line)
    secrets = _load_yaml(secrets_path) or {}
    if name not in secrets:
        raise ConfigError(f"!secret {name} is not in {secrets_path}", loader.name, line)
    return secrets[name]


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
_LineLoader.add_constructor("!secret", _construct_secret)


def _load_yaml(path: Path) -> Any:
    try:
        data = path.read_bytes()
    except OSError as err:
        raise ConfigError(f"cannot read: {err.strerror}", str(path)) from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        bad_line = data.count(b"\n", 0, err.start) + 1
        raise ConfigError(f"not UTF-8 text ({err.reason})", str(path), bad_line) from None
    loader: _LineLoader | None = None
    try:
        loader = _LineLoader(text)
        loader.name = str(path)
        return loader.get_single_data()
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        line = mark.line + 1 if mark else None
        problem = err.problem or err.context or "invalid YAML"
        raise ConfigError(f"invalid YAML: {problem}", str(path), line) from None
    except yaml.reader.ReaderError as err:
        problem, at = reader_error(text, err)
        raise ConfigError(problem, str(path), at) from None
    except yaml.YAMLError as err:
        raise ConfigError(f"invalid YAML: {err}", str(path)) from None
    finally:
        if loader is not None:
            loader.dispose()


def reader_error(text: str, err: yaml.reader.ReaderError) -> tuple[str, int]:
    """What a YAML reader error means and its line (PyYAML names only "<unicode string>")."""
    line = text.count("\n", 0, err.position) + 1
    char = err.character
    what = "a NUL byte" if char in (0, "\0") else f"the control character {char!r}"
    return f"{what} is not allowed in YAML", line


def _apply_env_overrides(
    integrations: dict[str, Mapping[str, Any]], env: Mapping[str, str], file: str
) -> None:
    for var, (domain, key) in ENV_OVERRIDES.items():
        raw = env.get(var, "").strip()
        section = integrations.get(domain)
        if not raw or section is None:
            continue
        if not raw.isdigit() or int(raw) > 65535:
            raise ConfigError(f"${var} must be a port number 0-65535, not {raw!r}", file)
        overridden = LineDict(section)
        overridden.line = getattr(section, "line", 0)
        overridden.lines = dict(getattr(section, "lines", {}))
        overridden[key] = int(raw)
        integrations[domain] = overridden
        _LOGGER.info("$%s sets %s.%s to %s", var, domain, key, raw)


def _section(raw: LineDict, key: str, schema: Schema, file: str) -> dict[str, Any]:
    value = raw.get(key)
    if value is None:
        return schema.check({})
    if not isinstance(value, Mapping):
        raise ConfigError(f"{key}: expected a mapping, got {_kind(value)}", file, raw.line_of(key))
    try:
        return schema.check(value)
    except ValidationErrors as err:
        bad, problem = next(iter(err.errors.items()))
        line = value.line_of(bad) if isinstance(value, LineDict) else raw.line_of(key)
        raise ConfigError(f"{key}.{bad}: {problem}", file, line) from None


def _kind(value: Any) -> str:
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return f"the text {value!r}"
    return type(value).__name__
