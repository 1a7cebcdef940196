"""The Hub: owns the bus, states, services, registry, recorder and the running integrations."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import time
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from .backups import Backups
from .bus import EventBus
from .clock import Clock
from .config import HubConfig, validate_section
from .const import EVENT_HUB_START, EVENT_HUB_STARTED, EVENT_HUB_STOP, EVENT_INTEGRATION_LOADED
from .entities import EntityManager
from .errors import ConfigError, IntegrationError
from .integration import Integration
from .loader import Loader
from .notifications import Notifications
from .pairing import PairingManager
from .recorder import Recorder
from .registry import Registry
from .safefile import Recovery
from .services import ServiceRegistry
from .states import StateMachine
from .storage import StorageError

__all__ = ["Hub"]

_LOGGER = logging.getLogger(__name__)
T = TypeVar("T")
SETUP_TIMEOUT = 60.0


class Hub:
    """One running home. Create it inside the event loop, then `await hub.async_start()`."""

    def __init__(
        self,
        config: HubConfig,
        *,
        clock: Clock | None = None,
        loader: Loader | None = None,
        record: bool = True,
    ) -> None:
        self.loop = asyncio.get_running_loop()
        self.config = config
        self.config_dir = config.config_dir
        self.clock = clock or Clock()
        self.loader = loader or Loader()
        self.bus = EventBus(self.loop)
        self.states = StateMachine(self.bus, self.clock.now)
        self.entities = EntityManager(self)
        self.services = ServiceRegistry(
            self.bus,
            self.entities.resolve_target,
            area_of=lambda entity_id: self.registry.entity_area_id(entity_id),
            entity_risky=self.entities.is_risky,
        )
        self.registry = Registry(self.bus, self.config_dir / "registry.db")
        # Stores register their daily rolling backup here (the web adds auth.db, MQTT its keys).
        self.backups = Backups(self.clock)
        self.backups.register("registry.db", lambda: self.registry.database.async_backup("daily"))
        self.recorder: Recorder | None = None
        if record:
            self.recorder = Recorder(
                self.bus,
                self.config_dir / "history.db",
                commit_interval=float(config.recorder.get("commit_interval", 0.5)),
                keep_days=float(config.recorder.get("keep_days", 10.0)),
                exclude=tuple(config.recorder.get("exclude", ())),
                clock=self.clock,
            )
        self.notifications = Notifications(self.bus)
        self.pairing = PairingManager(self)
        self.integrations: dict[str, Integration] = {}
        self.failed_integrations: dict[str, str] = {}
        # Components put shared objects here (the voice pipeline, the web app, ...).
        self.data: dict[str, Any] = {}
        # Lines appended to the "ready" log line, e.g. the dashboard address.
        self.ready_notes: list[str] = []
        self.state = "not_running"
        self.started_at: float | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._stopped = asyncio.Event()
        # Stores found damaged at start (integrations add theirs); the user is told of each.
        self.recoveries: list[Recovery] = []

    # -- lifecycle ----------------------------------------------------------------------
    async def async_start(self) -> None:
        """Open storage, restore states, set up integrations; logs one line with 'ready'."""
        start = time.monotonic()
        self.state = "starting"
        self.config_dir.mkdir(parents=True, exist_ok=True)
        await self.registry.async_load()
        if self.recorder is not None:
            await self._async_start_recorder(self.recorder)
        self.entities.register_services()
        self.notifications.register_services(self.services)
        self.backups.async_start(lambda job: self.async_create_task(job, name="daily-backup"))
        self.bus.async_fire(EVENT_HUB_START)
        await self._async_setup_integrations()
        await self._async_notify_damaged()
        self.state = "running"
        self.started_at = time.time()
        self.bus.async_fire(EVENT_HUB_STARTED)
        notes = "".join(f", {note}" for note in self.ready_notes)
        _LOGGER.info(
            "Hearth ready: %s, %d entities, %d integrations%s (started in %.2f s)",
            self.config.name,
            len(self.states),
            len(self.integrations),
            notes,
            time.monotonic() - start,
        )

    async def async_stop(self) -> None:
        """Tear down integrations, flush the recorder, close storage."""
        if self.state in ("stopping", "stopped"):
            await self._stopped.wait()
            return
        self.state = "stopping"
        self.backups.async_stop()
        self.bus.async_fire(EVENT_HUB_STOP)
        for domain in reversed(list(self.integrations)):
            try:
                await asyncio.wait_for(self.integrations[domain].async_teardown(), 15)
            except Exception:
                _LOGGER.exception("Integration %s failed to tear down", domain)
        self.integrations.clear()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self.recorder is not None:
            await self.recorder.async_stop()
        await self.registry.async_close()
        self.state = "stopped"
        self._stopped.set()
        _LOGGER.info("Hearth stopped")

    async def async_wait_stopped(self) -> None:
        """Wait until async_stop has finished."""
        await self._stopped.wait()

    # -- helpers for integrations ---------------------------------------------------------
    def async_create_task(
        self, coro: Coroutine[Any, Any, T], name: str | None = None
    ) -> asyncio.Task[T]:
        """Start a background task the hub cancels on stop; its exceptions are logged."""
        task = self.loop.create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)
        return task

    async def async_add_executor_job(self, func: Callable[..., T], *args: Any) -> T:
        """Run blocking work in the default executor."""
        return await self.loop.run_in_executor(None, func, *args)

    def integration_config(self, domain: str) -> Any:
        """The raw config section of an integration."""
        return self.config.integrations.get(domain, {})

    # -- internals ----------------------------------------------------------------------
    async def _async_start_recorder(self, recorder: Recorder) -> None:
        # History is worth less than a running home: if it cannot open, run without it.
        try:
            await recorder.async_start()
            restored = self.states.async_restore(await recorder.async_restore_states())
            _LOGGER.debug("Restored %d states", restored)
        except (StorageError, sqlite3.Error, OSError) as err:
            _LOGGER.error("History is off: %s cannot be used (%s)", recorder.database.path, err)
            self.notifications.async_create(
                f"History is not being recorded: {recorder.database.path.name} could not be "
                f"opened ({err}).",
                "History unavailable",
                "history_unavailable",
            )
            await recorder.async_stop_quietly()
            self.recorder = None

    async def _async_notify_damaged(self) -> None:
        """Tell the user about every damaged file kept aside (until they remove it)."""
        found = [self.registry.database.recovery, *self.recoveries]
        if self.recorder is not None:
            found.append(self.recorder.database.recovery)
        details = {r.damaged_copy.name: r.message() for r in found if r is not None}
        damaged = await self.async_add_executor_job(
            lambda: sorted(p.name for p in self.config_dir.glob("*.damaged-*"))
        )
        for name in damaged:
            if name.endswith(("-wal", "-shm", "-journal")):
                continue
            message = details.get(name) or (
                f"A damaged file was found and kept as {name} (see the log for what replaced it)."
            )
            self.notifications.async_create(
                f"{message} Delete {name} from the config folder once it is no longer needed.",
                "Damaged file kept aside",
                f"damaged:{name}",
            )

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            _LOGGER.error("Task %s failed", task.get_name(), exc_info=task.exception())

    async def _async_setup_integrations(self) -> None:
        configured = list(self.config.integrations)
        # Finding and importing integrations reads many files: never on the loop.
        available = await self.async_add_executor_job(self.loader.available)
        for domain in configured:
            if domain not in available:
                known = ", ".join(sorted(available))
                raise ConfigError(
                    f"unknown integration {domain!r} (known: {known})",
                    str(self.config.file),
                    self.config.section_line(domain),
                )
        plan = await self.async_add_executor_job(self.loader.resolve, configured)
        for domain, reason in plan.failed.items():
            self.failed_integrations[domain] = reason
            _LOGGER.error("Integration %s cannot be set up: %s", domain, reason)
        for level in plan.levels:
            await asyncio.gather(*(self._async_setup_one(domain) for domain in level))

    async def _async_setup_one(self, domain: str) -> None:
        cls = self.loader.load(domain)
        missing = [d for d in cls.manifest.dependencies if d not in self.integrations]
        if missing:
            reason = f"depends on {', '.join(missing)}, which failed to set up"
            self.failed_integrations[domain] = reason
            _LOGGER.error("Integration %s cannot be set up: %s", domain, reason)
            return
        section = self.config.integrations.get(domain, {})
        if cls.config_schema is not None:
            section = validate_section(self.config, domain, cls.config_schema, section)
        integration = cls(self, section)
        started = time.monotonic()
        try:
            await asyncio.wait_for(integration.async_setup(), SETUP_TIMEOUT)
        except ConfigError:
            raise
        except Exception as err:
            reason = str(err) or type(err).__name__
            self.failed_integrations[domain] = reason
            if isinstance(err, IntegrationError):
                _LOGGER.error("Integration %s failed to set up: %s", domain, reason)
            else:
                _LOGGER.exception("Integration %s failed to set up", domain)
            return
        self.integrations[domain] = integration
        self.bus.async_fire(
            EVENT_INTEGRATION_LOADED,
            {"domain": domain, "seconds": round(time.monotonic() - started, 4)},
        )
