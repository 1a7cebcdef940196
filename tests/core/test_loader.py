"""Integration loader: plugin packages and entry points, dependencies, ordering, failures."""

from __future__ import annotations

import ast
import asyncio
import textwrap
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from hub.config import HubConfig
from hub.core import Hub
from hub.loader import Loader

ROOT = Path(__file__).resolve().parents[2]

PLUGIN = """\
import asyncio

from hub.integration import Integration, Manifest


class {cls}(Integration):
    manifest = Manifest(domain={domain!r}, name={domain!r}, dependencies={deps!r}, after={after!r})

    async def async_setup(self):
        await asyncio.sleep({delay})
        {fail}
        self.hub.data.setdefault("order", []).append(self.domain)

{export}
"""


def plugin(
    domain: str,
    deps: tuple[str, ...] = (),
    after: tuple[str, ...] = (),
    *,
    delay: float = 0.0,
    fail: str | None = None,
    cls: str = "Plugin",
    export: str = "INTEGRATION = Plugin",
) -> str:
    """Source of an integration module that records the order it was set up in."""
    raise_line = f"raise RuntimeError({fail!r})" if fail else "pass"
    return PLUGIN.format(
        cls=cls, domain=domain, deps=deps, after=after, delay=delay, fail=raise_line, export=export
    )


def make_package(root: Path, modules: dict[str, str]) -> str:
    """Write a package of integrations under a fresh name on sys.path (root); return its name."""
    name = f"plugins_{uuid.uuid4().hex[:8]}"
    (root / name).mkdir(parents=True)
    (root / name / "__init__.py").write_text("")
    for domain, source in modules.items():
        (root / name / domain).mkdir()
        (root / name / domain / "__init__.py").write_text(source)
    return name


@asynccontextmanager
async def running_hub(tmp_path: Path, loader: Loader, *domains: str) -> AsyncIterator[Hub]:
    hub = Hub(HubConfig.minimal(tmp_path / "home", **{d: {} for d in domains}), loader=loader)
    try:
        await asyncio.wait_for(hub.async_start(), 30)
        yield hub
    finally:
        await hub.async_stop()


@pytest.fixture
def plugin_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "site"
    root.mkdir()
    monkeypatch.syspath_prepend(str(root))
    return root


async def test_dependencies_come_first_and_after_orders(plugin_root: Path, tmp_path: Path) -> None:
    package = make_package(
        plugin_root,
        {
            # base is slow: were needs_base not held back, it would finish first.
            "base": plugin("base", delay=0.05),
            "needs_base": plugin("needs_base", deps=("base",)),
            "late": plugin("late", after=("needs_base", "not_configured")),
            "solo": plugin("solo", delay=0.01),
        },
    )
    loader = Loader(packages=(package,))
    plan = loader.resolve(["late", "needs_base", "solo"])
    assert plan.levels == [["base", "solo"], ["needs_base"], ["late"]]
    assert plan.failed == {}
    async with running_hub(tmp_path, loader, "late", "needs_base", "solo") as hub:
        assert hub.data["order"] == ["solo", "base", "needs_base", "late"]
        assert set(hub.integrations) == {"base", "needs_base", "late", "solo"}
        assert hub.failed_integrations == {}


async def test_a_dependency_cycle_is_a_clear_failure_not_a_hang(
    plugin_root: Path, tmp_path: Path
) -> None:
    package = make_package(
        plugin_root,
        {
            "chicken": plugin("chicken", deps=("egg",)),
            "egg": plugin("egg", deps=("chicken",)),
            "omelette": plugin("omelette", deps=("egg",)),
            "toast": plugin("toast"),
        },
    )
    loader = Loader(packages=(package,))
    plan = await asyncio.wait_for(
        asyncio.to_thread(loader.resolve, ["omelette", "chicken", "toast"]), 10
    )
    assert plan.levels == [["toast"]]
    reason = "circular dependencies between chicken, egg, omelette"
    assert plan.failed == {"chicken": reason, "egg": reason, "omelette": reason}
    async with running_hub(tmp_path, loader, "omelette", "chicken", "toast") as hub:
        assert list(hub.integrations) == ["toast"]
        assert hub.failed_integrations == plan.failed


async def test_a_loop_of_after_only_orders_loosely(plugin_root: Path, tmp_path: Path) -> None:
    package = make_package(
        plugin_root,
        {"ping": plugin("ping", after=("pong",)), "pong": plugin("pong", after=("ping",))},
    )
    async with running_hub(tmp_path, Loader(packages=(package,)), "ping", "pong") as hub:
        assert sorted(hub.integrations) == ["ping", "pong"]


async def test_missing_dependency_fails_only_its_dependents(
    plugin_root: Path, tmp_path: Path
) -> None:
    package = make_package(
        plugin_root,
        {
            "needy": plugin("needy", deps=("ghost",)),
            "needier": plugin("needier", deps=("needy",)),
            "fine": plugin("fine"),
        },
    )
    async with running_hub(tmp_path, Loader(packages=(package,)), "needier", "fine") as hub:
        assert list(hub.integrations) == ["fine"]
        assert hub.failed_integrations == {
            "needier": "depends on needy: depends on ghost: integration 'ghost' is not installed"
        }


async def test_packages_that_are_not_integrations_fail_alone(
    plugin_root: Path, tmp_path: Path
) -> None:
    package = make_package(
        plugin_root,
        {
            "hollow": "HELLO = 'no integration here'\n",
            "broken": "import does_not_exist_anywhere\n",
            "liar": plugin("someone_else"),
            "fine": plugin("fine"),
        },
    )
    loader = Loader(packages=(package,))
    async with running_hub(tmp_path, loader, "hollow", "broken", "liar", "fine") as hub:
        assert list(hub.integrations) == ["fine"]
        failed = hub.failed_integrations
        assert failed["hollow"] == f"{package}.hollow defines no INTEGRATION class"
        assert failed["broken"].startswith("integration broken failed to import: No module named")
        assert "declares domain 'someone_else', expected 'liar'" in failed["liar"]


async def test_setup_that_raises_is_listed_and_the_rest_still_load(
    plugin_root: Path, tmp_path: Path
) -> None:
    package = make_package(
        plugin_root,
        {
            "boom": plugin("boom", fail="radio on fire"),
            "after_boom": plugin("after_boom", deps=("boom",)),
            "fine": plugin("fine", delay=0.01),
        },
    )
    loader = Loader(packages=(package,))
    async with running_hub(tmp_path, loader, "boom", "after_boom", "fine") as hub:
        assert hub.state == "running"
        assert list(hub.integrations) == ["fine"]
        assert hub.data["order"] == ["fine"]
        assert hub.failed_integrations == {
            "boom": "radio on fire",
            "after_boom": "depends on boom, which failed to set up",
        }


async def test_integrations_are_found_through_entry_points(
    plugin_root: Path, tmp_path: Path
) -> None:
    tag = uuid.uuid4().hex[:8]
    domain, module = f"plugged_{tag}", f"plugmod_{tag}"
    # An installed distribution as pip leaves it: a dist-info with entry_points.txt.
    dist_info = plugin_root / f"hearth_test_plugin_{tag}-1.0.dist-info"
    dist_info.mkdir()
    (dist_info / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: hearth-test-plugin-{tag}\nVersion: 1.0\n"
    )
    (dist_info / "entry_points.txt").write_text(
        f"[hearth.integrations]\n{domain} = {module}.impl:Plugged\n"
    )
    (plugin_root / module).mkdir()
    (plugin_root / module / "__init__.py").write_text("")
    # The entry point names the class; the module need not export INTEGRATION.
    (plugin_root / module / "impl.py").write_text(plugin(domain, cls="Plugged", export=""))
    loader = Loader(packages=())
    assert loader.available()[domain] == f"{module}.impl:Plugged"
    async with running_hub(tmp_path, loader, domain) as hub:
        assert list(hub.integrations) == [domain]
        assert hub.data["order"] == [domain]


def test_the_core_imports_nothing_from_the_layers_above_it() -> None:
    above = {"integrations", "voice", "web", "firmware"}
    offenders = []
    files = sorted((ROOT / "hub").rglob("*.py"))
    assert len(files) > 20
    for path in files:
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                if name.split(".", 1)[0] in above:
                    offenders.append(f"{path.relative_to(ROOT)}:{node.lineno} imports {name}")
    assert offenders == [], textwrap.indent("\n".join(offenders), "  ")
