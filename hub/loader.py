"""Finds integrations: packages under `integrations/` and the `hearth.integrations` entry points."""

from __future__ import annotations

import importlib
import importlib.util
import logging
import pkgutil
from importlib.metadata import entry_points

from .errors import IntegrationError
from .integration import Integration

__all__ = ["Loader"]

_LOGGER = logging.getLogger(__name__)
ENTRY_POINT_GROUP = "hearth.integrations"
# Components that live in the core itself rather than in a plugin package.
BUILTIN = {"rules": "hub.rules"}


class Loader:
    """Maps integration domains to modules, and imports them only when used."""

    def __init__(self, packages: tuple[str, ...] = ("integrations",)) -> None:
        self._packages = packages
        self._modules: dict[str, str] | None = None
        self._loaded: dict[str, type[Integration]] = {}

    def available(self) -> dict[str, str]:
        """Domain -> module path of every integration that can be loaded."""
        if self._modules is None:
            modules: dict[str, str] = {}
            for name, module in BUILTIN.items():
                if importlib.util.find_spec(module) is not None:
                    modules[name] = module
            for package in self._packages:
                spec = importlib.util.find_spec(package)
                if spec is None or not spec.submodule_search_locations:
                    continue
                for info in pkgutil.iter_modules(spec.submodule_search_locations):
                    if info.ispkg and not info.name.startswith("_"):
                        modules[info.name] = f"{package}.{info.name}"
            for ep in entry_points(group=ENTRY_POINT_GROUP):
                modules.setdefault(ep.name, ep.value.split(":", 1)[0])
            self._modules = modules
        return self._modules

    def load(self, domain: str) -> type[Integration]:
        """Import an integration and return its Integration class."""
        if domain in self._loaded:
            return self._loaded[domain]
        module_name = self.available().get(domain)
        if module_name is None:
            raise IntegrationError(f"unknown integration {domain!r}")
        try:
            module = importlib.import_module(module_name)
        except Exception as err:
            raise IntegrationError(f"integration {domain} failed to import: {err}") from err
        cls = getattr(module, "INTEGRATION", None)
        if not (isinstance(cls, type) and issubclass(cls, Integration)):
            raise IntegrationError(f"{module_name} defines no INTEGRATION class")
        if cls.manifest.domain != domain:
            raise IntegrationError(
                f"{module_name} declares domain {cls.manifest.domain!r}, expected {domain!r}"
            )
        self._loaded[domain] = cls
        return cls

    def resolve(self, domains: list[str]) -> list[list[str]]:
        """Add dependencies and return set-up levels: each level only needs earlier ones."""
        wanted: dict[str, type[Integration]] = {}
        todo = list(domains)
        while todo:
            domain = todo.pop()
            if domain in wanted:
                continue
            cls = self.load(domain)
            wanted[domain] = cls
            todo.extend(d for d in cls.manifest.dependencies if d not in wanted)
        levels: list[list[str]] = []
        done: set[str] = set()
        remaining = dict(wanted)
        while remaining:
            level = sorted(
                d
                for d, cls in remaining.items()
                if all(dep in done for dep in cls.manifest.dependencies)
                and all(a in done or a not in remaining for a in cls.manifest.after)
            )
            if not level:
                raise IntegrationError(
                    f"circular dependencies between {', '.join(sorted(remaining))}"
                )
            levels.append(level)
            done.update(level)
            for d in level:
                del remaining[d]
        return levels
