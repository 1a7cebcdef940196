"""Finds integrations: packages under `integrations/` and the `hearth.integrations` entry points."""

from __future__ import annotations

import importlib
import importlib.util
import logging
import pkgutil
from dataclasses import dataclass
from importlib.metadata import entry_points

from .errors import IntegrationError
from .integration import Integration

__all__ = ["Loader", "Resolution"]

_LOGGER = logging.getLogger(__name__)
ENTRY_POINT_GROUP = "hearth.integrations"
# Components that live in the core itself rather than in a plugin package.
BUILTIN = {"rules": "hub.rules"}


@dataclass(frozen=True, slots=True)
class Resolution:
    """Set-up levels (each needs only earlier ones) and the domains that cannot be set up."""

    levels: list[list[str]]
    failed: dict[str, str]


class Loader:
    """Maps integration domains to modules, and imports them only when used."""

    def __init__(self, packages: tuple[str, ...] = ("integrations",)) -> None:
        self._packages = packages
        self._modules: dict[str, str] | None = None
        self._loaded: dict[str, type[Integration]] = {}

    def available(self) -> dict[str, str]:
        """Domain -> `module` (which defines INTEGRATION) or `module:attr` (entry points)."""
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
                modules.setdefault(ep.name, ep.value.replace(" ", ""))
            self._modules = modules
        return self._modules

    def load(self, domain: str) -> type[Integration]:
        """Import an integration and return its Integration class."""
        if domain in self._loaded:
            return self._loaded[domain]
        target = self.available().get(domain)
        if target is None:
            raise IntegrationError(f"integration {domain!r} is not installed")
        module_name, _, attr = target.partition(":")
        try:
            module = importlib.import_module(module_name)
        except Exception as err:
            raise IntegrationError(f"integration {domain} failed to import: {err}") from err
        cls = getattr(module, attr or "INTEGRATION", None)
        if not (isinstance(cls, type) and issubclass(cls, Integration)):
            raise IntegrationError(
                f"{target} is not an Integration class"
                if attr
                else f"{module_name} defines no INTEGRATION class"
            )
        if cls.manifest.domain != domain:
            raise IntegrationError(
                f"{module_name} declares domain {cls.manifest.domain!r}, expected {domain!r}"
            )
        self._loaded[domain] = cls
        return cls

    def resolve(self, domains: list[str]) -> Resolution:
        """Add dependencies; order what can be set up into levels, and say why the rest cannot."""
        wanted: dict[str, type[Integration]] = {}
        failed: dict[str, str] = {}
        todo = list(domains)
        while todo:
            domain = todo.pop(0)
            if domain in wanted or domain in failed:
                continue
            try:
                wanted[domain] = cls = self.load(domain)
            except IntegrationError as err:
                failed[domain] = str(err)
                continue
            todo.extend(cls.manifest.dependencies)
        # Whatever needs something that cannot load cannot be set up either.
        changed = True
        while changed:
            changed = False
            for domain, cls in list(wanted.items()):
                bad = next((d for d in cls.manifest.dependencies if d in failed), None)
                if bad is not None:
                    failed[domain] = f"depends on {bad}: {failed[bad]}"
                    del wanted[domain]
                    changed = True
        # A dependency nobody configured is reported through those that need it.
        failed = {d: why for d, why in failed.items() if d in domains}
        levels: list[list[str]] = []
        done: set[str] = set()
        while wanted:
            ready = [
                d
                for d, cls in wanted.items()
                if all(dep in done for dep in cls.manifest.dependencies)
            ]
            level = sorted(
                d
                for d in ready
                if all(a in done or a not in wanted for a in wanted[d].manifest.after)
            )
            if ready and not level:
                # `after` only orders; a loop of it is a plugin bug, not a reason to refuse.
                _LOGGER.warning("'after' of %s form a loop; ignoring it", ", ".join(sorted(ready)))
                level = sorted(ready)
            if not level:
                # Nothing can go first: the rest wait on each other (or on one that does).
                reason = f"circular dependencies between {', '.join(sorted(wanted))}"
                failed.update(dict.fromkeys(wanted, reason))
                break
            levels.append(level)
            done.update(level)
            for d in level:
                del wanted[d]
        return Resolution(levels, failed)
