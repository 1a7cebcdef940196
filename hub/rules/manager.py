"""The rule manager at hub.data["rules"]: loads rules.yaml and dashboard rules, reloads them,
and is the async API the dashboard uses (list, get, create, update, delete, enable, trigger,
traces)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hub.bus import Event
from hub.const import EVENT_INTEGRATION_LOADED, EVENT_RULES_UPDATED

from .db import RulesDatabase
from .env import Env
from .errors import RuleIssue, RuleNotFound, RuleReadOnly, RulesInvalid
from .index import TriggerIndex
from .rule import Rule
from .scene import Scene
from .schema import Document, RuleConfig, parse_document, parse_single_rule
from .traces import Trace

if TYPE_CHECKING:
    from hub.core import Hub

__all__ = ["EVENT_RULES_UPDATED", "ReloadResult", "RuleDetail", "RuleInfo", "RuleManager"]

_LOGGER = logging.getLogger(__name__)
DASHBOARD = "dashboard"
SOURCE_FILE = "file"
MAX_DASHBOARD_RULE_BYTES = 200_000


@dataclass(frozen=True, slots=True)
class RuleInfo:
    """A rule as the dashboard lists it."""

    id: str
    name: str
    description: str
    enabled: bool
    source: str  # "file" (rules.yaml, read-only here) or "dashboard"
    file: str
    line: int | None
    mode: str
    triggers: tuple[str, ...]
    running: int
    last_triggered: float | None
    errors: tuple[str, ...]
    author: str | None = None  # user id whose rights it runs with (dashboard rules)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return _lists(asdict(self))


@dataclass(frozen=True, slots=True)
class RuleDetail:
    """One rule with its YAML source."""

    info: RuleInfo
    yaml: str
    editable: bool

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {**self.info.as_dict(), "yaml": self.yaml, "editable": self.editable}


@dataclass(frozen=True, slots=True)
class ReloadResult:
    """What a reload changed."""

    added: tuple[str, ...]
    removed: tuple[str, ...]
    changed: tuple[str, ...]
    unchanged: int

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return _lists(asdict(self))


class RuleManager:
    """Owns every rule of one hub."""

    def __init__(self, hub: Hub, *, file: str = "rules.yaml", keep_traces: int = 20) -> None:
        self.hub = hub
        self.path = Path(hub.config_dir) / file
        self.index = TriggerIndex(hub)
        self.env = Env(hub, self.index)
        self.db = RulesDatabase(Path(hub.config_dir) / "rules.db", keep_traces)
        self.file_error: RulesInvalid | None = None
        self._rules: dict[str, Rule] = {}
        self._file_scenes: dict[str, Scene] = {}
        self._flags: dict[str, bool] = {}
        self._lock = asyncio.Lock()
        self._saving: set[asyncio.Task[None]] = set()
        self._unsub_loaded: Callable[[], None] = lambda: None

    # -- lifecycle ----------------------------------------------------------------------------
    async def async_start(self) -> None:
        """Open the database and load rules; a broken rules.yaml is reported, not fatal."""
        await self.db.async_open()
        self._flags = await self.db.async_flags()
        try:
            document = await self._async_read_file()
        except RulesInvalid as err:
            self._report_file_error(err)
            document = Document((), {})
        self._set_scenes(document.scenes)
        for config in document.rules:
            self._add(config, SOURCE_FILE)
        for stored in await self.db.async_rules():
            try:
                config = await self.hub.async_add_executor_job(
                    parse_single_rule,
                    stored.yaml,
                    f"{DASHBOARD}:{stored.id}",
                    frozenset(self.env.scenes),
                )
            except RulesInvalid as err:
                _LOGGER.error("Dashboard rule %s is invalid and was not loaded: %s", stored.id, err)
                continue
            if config.id in self._rules:
                _LOGGER.error("Dashboard rule %s clashes with rules.yaml; not loaded", config.id)
                continue
            self._add(config, DASHBOARD, stored.author)
        _LOGGER.info("Loaded %d rules", len(self._rules))
        self._unsub_loaded = self.hub.bus.async_listen(EVENT_INTEGRATION_LOADED, self._on_loaded)

    async def async_stop(self) -> None:
        """Cancel runs, drop subscriptions, flush traces, close the database."""
        self._unsub_loaded()
        for rule in self._rules.values():
            rule.stop()
        await asyncio.gather(
            *(r.controller.async_wait_idle() for r in self._rules.values()), return_exceptions=True
        )
        await self.async_flush()
        self.index.close()
        await self.db.async_close()

    # -- the dashboard API --------------------------------------------------------------------
    def rules(self) -> list[RuleInfo]:
        """Every rule, in load order."""
        return [self._info(rule) for rule in self._rules.values()]

    def get(self, rule_id: str) -> RuleDetail:
        """One rule with its YAML source; RuleNotFound if unknown."""
        rule = self._rule(rule_id)
        return RuleDetail(self._info(rule), rule.config.source, rule.source == DASHBOARD)

    async def async_validate(self, yaml_text: str) -> RuleConfig:
        """Check one rule's YAML without saving it; raises RulesInvalid with located issues."""
        return await self._async_parse_one(yaml_text, None)

    async def async_create(self, yaml_text: str, author: str | None = None) -> RuleInfo:
        """Add a dashboard rule from YAML text (one mapping with id, triggers, actions).

        `author` is the user id whose rights its runs have.
        """
        async with self._lock:
            config = await self._async_parse_one(yaml_text, None)
            if config.id in self._rules:
                where = self._rules[config.id].source
                raise RulesInvalid(
                    [
                        RuleIssue(
                            config.file,
                            config.line,
                            config.id,
                            "id",
                            f"a rule with this id already exists ({where})",
                        )
                    ]
                )
            await self.db.async_put_rule(config.id, yaml_text, author)
            rule = self._add(config, DASHBOARD, author)
        self._changed("created", config.id)
        return self._info(rule)

    async def async_update(
        self, rule_id: str, yaml_text: str, author: str | None = None
    ) -> RuleInfo:
        """Replace a dashboard rule; the id in the text must match (rules.yaml ones are read-only).

        The editor becomes the author: the rule now does what they wrote, with their rights.
        """
        async with self._lock:
            old = self._editable(rule_id)
            config = await self._async_parse_one(yaml_text, rule_id)
            if config.id != rule_id:
                raise RulesInvalid(
                    [
                        RuleIssue(
                            config.file,
                            config.line,
                            config.id,
                            "id",
                            f"the id cannot change (expected {rule_id!r})",
                        )
                    ]
                )
            await self.db.async_put_rule(rule_id, yaml_text, author)
            old.stop()
            del self._rules[rule_id]
            rule = self._add(config, DASHBOARD, author)
        self._changed("updated", rule_id)
        return self._info(rule)

    async def async_delete(self, rule_id: str) -> None:
        """Delete a dashboard rule and its traces."""
        async with self._lock:
            rule = self._editable(rule_id)
            rule.stop()
            del self._rules[rule_id]
            self._flags.pop(rule_id, None)
            await self.db.async_delete_rule(rule_id)
        self._changed("deleted", rule_id)

    async def async_set_enabled(self, rule_id: str, enabled: bool) -> RuleInfo:
        """Turn a rule on or off (remembered across restarts; running runs are cancelled on off)."""
        rule = self._rule(rule_id)
        rule.enabled = enabled
        self._flags[rule_id] = enabled
        if enabled:
            rule.attach()
        else:
            rule.stop()
        await self.db.async_set_flag(rule_id, enabled)
        self._changed("enabled" if enabled else "disabled", rule_id)
        return self._info(rule)

    async def async_trigger(
        self,
        rule_id: str,
        variables: Mapping[str, Any] | None = None,
        *,
        skip_conditions: bool = True,
    ) -> str | None:
        """Run a rule now (even if disabled); returns the run id, None if conditions/mode stopped it."""
        rule = self._rule(rule_id)
        trigger = {"platform": "manual", "id": None, **dict(variables or {})}
        return rule.start_run(trigger, None, check_conditions=not skip_conditions)

    async def async_traces(self, rule_id: str, limit: int = 20) -> list[dict[str, Any]]:
        """A rule's traces, newest first: running ones, then stored ones."""
        rule = self._rule(rule_id)
        running = [t.as_dict() for t in reversed(list(rule.running_traces.values()))]
        stored = await self.db.async_traces(rule_id, max(0, limit - len(running)))
        return (running + stored)[:limit]

    async def async_trace(self, run_id: str) -> dict[str, Any] | None:
        """One trace by run id."""
        for rule in self._rules.values():
            trace = rule.running_traces.get(run_id)
            if trace is not None:
                return trace.as_dict()
        return await self.db.async_trace(run_id)

    async def async_reload(self) -> ReloadResult:
        """Re-read rules.yaml; an invalid file raises RulesInvalid and nothing changes."""
        async with self._lock:
            try:
                document = await self._async_read_file()
            except RulesInvalid as err:
                self._report_file_error(err)
                raise
            clashes = [
                RuleIssue(c.file, c.line, c.id, "id", "already used by a dashboard rule")
                for c in document.rules
                if c.id in self._rules and self._rules[c.id].source == DASHBOARD
            ]
            if clashes:
                clash = RulesInvalid(clashes)
                self._report_file_error(clash)
                raise clash
            self.file_error = None
            result = self._apply(document)
        self._changed("reloaded", None)
        _LOGGER.info("Rules reloaded: %s", result)
        return result

    # Names the dashboard's API module calls (web/api/rules.py); JSON-ready results.
    def list_rules(self) -> list[dict[str, Any]]:
        """Every rule as a dict."""
        return [info.as_dict() for info in self.rules()]

    def get_rule(self, rule_id: str) -> dict[str, Any]:
        """One rule with its YAML, as a dict."""
        return self.get(rule_id).as_dict()

    async def async_create_rule(self, yaml_text: str, author: str | None = None) -> dict[str, Any]:
        """async_create, as a dict."""
        return (await self.async_create(yaml_text, author)).as_dict()

    async def async_update_rule(
        self, rule_id: str, yaml_text: str, author: str | None = None
    ) -> dict[str, Any]:
        """async_update, as a dict."""
        return (await self.async_update(rule_id, yaml_text, author)).as_dict()

    async def async_delete_rule(self, rule_id: str) -> None:
        """async_delete."""
        await self.async_delete(rule_id)

    def voice_phrases(self) -> list[str]:
        """Phrases rules listen for, for the voice pipeline's grammar."""
        return self.index.phrases()

    async def async_flush(self) -> None:
        """Wait until finished traces are written."""
        while self._saving:
            await asyncio.gather(*list(self._saving), return_exceptions=True)

    async def async_wait_idle(self) -> None:
        """Wait for every run to end and its trace to be written (tests)."""
        while self.env.active_runs:
            for controller in list(self.env.active_runs):
                await controller.async_wait_idle()
        await self.async_flush()

    # -- internals ----------------------------------------------------------------------------
    def _rule(self, rule_id: str) -> Rule:
        rule = self._rules.get(rule_id)
        if rule is None:
            raise RuleNotFound(rule_id)
        return rule

    def _editable(self, rule_id: str) -> Rule:
        rule = self._rule(rule_id)
        if rule.source != DASHBOARD:
            raise RuleReadOnly(
                f"rule {rule_id!r} is defined in {self.path.name}; edit that file and reload"
            )
        return rule

    def _add(self, config: RuleConfig, source: str, author: str | None = None) -> Rule:
        rule = Rule(config, self.env, source, self._save, author)
        rule.enabled = self._flags.get(config.id, config.enabled)
        self._rules[config.id] = rule
        rule.attach()
        return rule

    def _apply(self, document: Document) -> ReloadResult:
        self._set_scenes(document.scenes)
        new_ids = {c.id for c in document.rules}
        removed = [
            rid for rid, r in self._rules.items() if r.source == SOURCE_FILE and rid not in new_ids
        ]
        for rid in removed:
            self._rules.pop(rid).stop()
        added, changed, unchanged = [], [], 0
        for config in document.rules:
            old = self._rules.get(config.id)
            if old is not None and old.config == config:
                old.config = config  # same behaviour; keep runs and pending `for` timers
                unchanged += 1
                continue
            if old is not None:
                old.stop()
                del self._rules[config.id]
                changed.append(config.id)
            else:
                added.append(config.id)
            self._add(config, SOURCE_FILE)
        return ReloadResult(tuple(added), tuple(removed), tuple(changed), unchanged)

    def _set_scenes(self, scenes: Mapping[str, Scene]) -> None:
        self._file_scenes = dict(scenes)
        self.env.scenes = self._file_scenes

    async def _async_read_file(self) -> Document:
        path = self.path

        def read() -> Document:
            try:
                text = path.read_text(encoding="utf-8")
            except FileNotFoundError:
                return Document((), {})
            except (OSError, UnicodeDecodeError) as err:
                raise RulesInvalid(
                    [RuleIssue(str(path), None, None, "", f"cannot read: {err}")]
                ) from None
            return parse_document(text, str(path))

        return await self.hub.async_add_executor_job(read)

    async def _async_parse_one(self, yaml_text: str, rule_id: str | None) -> RuleConfig:
        label = f"{DASHBOARD}:{rule_id}" if rule_id else DASHBOARD
        if not isinstance(yaml_text, str) or len(yaml_text) > MAX_DASHBOARD_RULE_BYTES:
            raise RulesInvalid(
                [RuleIssue(label, None, rule_id, "", "expected YAML text of at most 200 kB")]
            )
        return await self.hub.async_add_executor_job(
            parse_single_rule, yaml_text, label, frozenset(self.env.scenes)
        )

    def _save(self, trace: Trace) -> None:
        data = trace.as_dict()
        task = self.hub.async_create_task(self._async_save(data), f"rule trace {trace.rule_id}")
        self._saving.add(task)
        task.add_done_callback(self._saving.discard)

    async def _async_save(self, data: dict[str, Any]) -> None:
        try:
            await self.db.async_add_trace(data)
        except Exception:
            _LOGGER.exception("Could not store the trace of rule %s", data.get("rule_id"))

    def _info(self, rule: Rule) -> RuleInfo:
        config = rule.config
        return RuleInfo(
            id=config.id,
            name=config.name,
            description=config.description,
            enabled=rule.enabled,
            source=rule.source,
            file=config.file,
            line=config.line,
            mode=config.mode,
            triggers=tuple(t.platform for t in config.triggers),
            running=len(rule.controller.running),
            last_triggered=rule.last_triggered,
            errors=tuple(rule.errors),
            author=rule.author,
        )

    def _on_loaded(self, _event: Event) -> None:
        # A trigger that needed a component (MQTT) may work now that another one has loaded.
        for rule in self._rules.values():
            if rule.errors and rule.enabled:
                rule.attach()

    def _report_file_error(self, err: RulesInvalid) -> None:
        self.file_error = err
        _LOGGER.error("%s", err)
        self.hub.notifications.async_create(
            "\n".join(str(issue) for issue in err.issues[:10]),
            title=f"{self.path.name} has errors; running rules were kept",
            nid="rules_file_error",
        )

    def _changed(self, action: str, rule_id: str | None) -> None:
        self.hub.bus.async_fire(EVENT_RULES_UPDATED, {"action": action, "rule_id": rule_id})


def _lists(data: dict[str, Any]) -> dict[str, Any]:
    return {k: list(v) if isinstance(v, tuple) else v for k, v in data.items()}
