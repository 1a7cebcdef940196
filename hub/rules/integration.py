"""The rules component: starts the manager and registers the rules.* services."""

from __future__ import annotations

from pathlib import PurePath
from typing import Any, ClassVar

from hub.errors import ConfigError
from hub.integration import Integration, Manifest
from hub.schema import Field, Schema
from hub.services import ServiceCall

from .manager import RuleManager

__all__ = ["DATA_KEY", "RulesIntegration"]

DATA_KEY = "rules"
_RULE_ID = Schema({"rule_id": Field("str", required=True, max_length=100)})


class RulesIntegration(Integration):
    """Loads rules.yaml (and dashboard rules) and runs them."""

    manifest = Manifest(
        domain="rules",
        name="Rules",
        # Set up after what rules talk to, so MQTT and voice are in hub.data when rules attach.
        after=("demo", "mqtt", "voice", "zigbee", "ble"),
        description="Triggers, conditions and actions written in rules.yaml or the dashboard",
    )
    config_schema: ClassVar = Schema(
        {
            "file": Field(
                "str", default="rules.yaml", max_length=200, description="in the config dir"
            ),
            "keep_traces": Field(
                "int", min=1, max=1000, default=20, description="traces kept per rule"
            ),
        }
    )

    def __init__(self, hub: Any, config: Any) -> None:
        super().__init__(hub, config)
        file = str(self.config.get("file", "rules.yaml"))
        parts = PurePath(file).parts
        # The rules file must stay inside the config directory.
        if PurePath(file).is_absolute() or ".." in parts or not parts:
            raise ConfigError(
                "rules.file must be a file name inside the config directory",
                str(hub.config.file),
                hub.config.section_line("rules"),
            )
        self.manager = RuleManager(
            hub, file=file, keep_traces=int(self.config.get("keep_traces", 20))
        )

    async def async_setup(self) -> None:
        await self.manager.async_start()
        self.hub.data[DATA_KEY] = self.manager
        services = self.hub.services
        services.async_register(
            "rules", "reload", self._reload, description="Re-read rules.yaml", access="admin"
        )
        services.async_register(
            "rules",
            "trigger",
            self._trigger,
            Schema(
                {
                    "rule_id": Field("str", required=True, max_length=100),
                    "skip_conditions": Field("bool", default=True),
                }
            ),
            description="Run a rule now",
            access="admin",
        )
        services.async_register(
            "rules", "turn_on", self._turn_on, _RULE_ID, description="Enable a rule", access="admin"
        )
        services.async_register(
            "rules",
            "turn_off",
            self._turn_off,
            _RULE_ID,
            description="Disable a rule",
            access="admin",
        )

    async def async_teardown(self) -> None:
        for service in ("reload", "trigger", "turn_on", "turn_off"):
            self.hub.services.async_remove("rules", service)
        await self.manager.async_stop()
        self.hub.data.pop(DATA_KEY, None)

    async def _reload(self, call: ServiceCall) -> dict[str, Any]:
        return (await self.manager.async_reload()).as_dict()

    async def _trigger(self, call: ServiceCall) -> dict[str, Any]:
        run_id = await self.manager.async_trigger(
            call.data["rule_id"], skip_conditions=call.data.get("skip_conditions", True)
        )
        return {"run_id": run_id}

    async def _turn_on(self, call: ServiceCall) -> None:
        await self.manager.async_set_enabled(call.data["rule_id"], True)

    async def _turn_off(self, call: ServiceCall) -> None:
        await self.manager.async_set_enabled(call.data["rule_id"], False)
