"""Fixtures for the rules tests: a hub with the rules component on a fake clock."""

from __future__ import annotations

import textwrap
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from hub.clock import FakeClock
from hub.core import Hub
from hub.rules import RuleManager
from tests.conftest import HubFactory
from tests.mosquitto import mosquitto, mosquitto_factory  # noqa: F401

RulesHub = Callable[..., Awaitable[Hub]]
DEMO = {"delay": 0, "tick": 3600}


@pytest.fixture
def make_hub(hub_factory: HubFactory, tmp_path: Path, fake_clock: FakeClock) -> RulesHub:
    """Start a hub whose rules.yaml holds `rules_yaml` (dedented); demo home on unless demo=False."""
    count = 0

    async def make(
        rules_yaml: str = "",
        *,
        demo: bool | dict[str, Any] = True,
        config_dir: Path | None = None,
        clock: FakeClock | None = None,
        **integrations: Any,
    ) -> Hub:
        nonlocal count
        count += 1
        if config_dir is None:
            config_dir = tmp_path / f"home{count}"
            config_dir.mkdir()
            (config_dir / "rules.yaml").write_text(textwrap.dedent(rules_yaml), encoding="utf-8")
        if demo:
            integrations["demo"] = demo if isinstance(demo, dict) else DEMO
        integrations.setdefault("rules", {})
        return await hub_factory(config_dir=config_dir, clock=clock or fake_clock, **integrations)

    return make


def manager(hub: Hub) -> RuleManager:
    """The running rule manager."""
    rules = hub.data["rules"]
    assert isinstance(rules, RuleManager)
    return rules


async def traces(hub: Hub, rule_id: str) -> list[dict[str, Any]]:
    """Let runs finish, then return the rule's traces, newest first."""
    await manager(hub).async_wait_idle()
    return await manager(hub).async_traces(rule_id)


def record(hub: Hub, event_type: str) -> list[dict[str, Any]]:
    """Collect the data of every event of a type."""
    seen: list[dict[str, Any]] = []
    hub.bus.async_listen(event_type, lambda event: seen.append(dict(event.data)))
    return seen
