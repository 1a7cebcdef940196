"""Home Assistant's intents test suite through Hearth's text path.

Each test file of OHF-Voice/intents (`tests/<lang>/<Intent>/<combo>.yaml`) declares its own
floors, areas, entities and the satellite's area; every file gets that home in a real hub, and
every sentence goes through Hearth's recogniser and planner. A sentence is right when Hearth's
intent and resolved slots equal the file's, and the plan acts (or answers) without refusing.
Files are split in halves by a stable hash of their path: tune on dev, report test.
Separately, Hearth's reply to each sentence is compared with the test's `response:` (what HA
says); that column never changes right/wrong. Timer replies come from a scratch timer list
(the file's running timers are not recreated), other replies from the plan as the pipeline
would speak them after every action succeeded.

Run: .venv/bin/python bench/intents_suite.py [--repo PATH] [--lang en zh-CN ...] [--show wrong]
PATH is a checkout of OHF-Voice/intents or its bare git directory (never committed here).
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import io
import logging
import subprocess
import sys
import tarfile
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from hub.config import HubConfig
from hub.core import Hub
from hub.domains import DOMAINS
from hub.entity import Entity, slugify
from voice.actions import REFUSAL_KEYS, Plan, Planner
from voice.library import SUPPORTED_INTENTS
from voice.pipeline import VoicePipeline
from voice.recognizer import IntentMatch
from voice.replies import reply
from voice.settings import VoiceSettings
from voice.timers import async_apply_request

DEFAULT_REPO = Path("/work/.mirror/OHF-Voice+intents/repo")
LANGS = ("en", "zh-CN", "zh-TW", "zh-HK")
INTEGRATION = "suite"
# Plans that answer "I can't" rather than act or inform.
# "X is not on the list" answers a rightly understood sentence; the other refusals do not.
REFUSALS = REFUSAL_KEYS - {"item_not_on_list"}
# Slots that only say how a sentence was phrased, not what it asks for.
IGNORED_SLOTS = frozenset({"domain"})
ABSENT_DOMAINS = frozenset({"person", "scene", "script", "valve", "media_player"})
SHOPPING_LIST = {"name": "Shopping list", "domain": "todo"}
# HA's suite always runs with a satellite area; files that do not name one get this sentinel.
CONTEXT_SENTINEL = "__context_area__"
# Understood right, and the file's home has nothing of that kind: the truthful answer is "none".
EMPTY_ANSWERS = frozenset({"no_entities", "none_of_kind", "unknown_name_in", "no_vacuum"})


@dataclass(frozen=True)
class SuiteFile:
    """One test file: its path (lang/Intent/combo.yaml) and parsed content."""

    path: str
    language: str
    intent: str
    data: dict[str, Any]

    @property
    def half(self) -> str:
        digest = hashlib.sha1(self.path.encode()).digest()
        return "dev" if digest[0] % 2 == 0 else "test"


@dataclass
class Tally:
    """Outcome counts for one (language, intent, half)."""

    right: int = 0
    right_empty: int = 0  # of the right ones: answered "there is none" (home has none)
    wrong: int = 0
    wrong_action: int = 0
    refused: int = 0
    out_of_scope: int = 0  # about a domain Hearth lacks (scenes, scripts, valves, people)
    response_total: int = 0  # sentences whose test gives HA's reply
    response_same: int = 0  # of those: Hearth's reply is the same text
    response_found: int = 0  # of those: understood right and the home had what was asked
    response_found_same: int = 0

    @property
    def total(self) -> int:
        return self.right + self.wrong + self.refused

    def add(self, other: Tally) -> None:
        self.right += other.right
        self.right_empty += other.right_empty
        self.wrong += other.wrong
        self.wrong_action += other.wrong_action
        self.refused += other.refused
        self.out_of_scope += other.out_of_scope
        self.response_total += other.response_total
        self.response_same += other.response_same
        self.response_found += other.response_found
        self.response_found_same += other.response_found_same


@dataclass(frozen=True)
class Verdict:
    """What happened to one sentence."""

    outcome: str  # "right" | "wrong" | "refused"
    acted: bool
    detail: str = ""
    empty: bool = False


@dataclass
class Results:
    tallies: dict[tuple[str, str, str], Tally] = field(default_factory=lambda: defaultdict(Tally))
    examples: list[tuple[str, str, str, str]] = field(default_factory=list)


# -- reading the suite ------------------------------------------------------------------------


def read_suite(
    repo: Path, languages: Iterable[str], intents: Iterable[str] = SUPPORTED_INTENTS
) -> list[SuiteFile]:
    """Test files for `languages` and `intents`, from a checkout or a bare git directory."""
    wanted_langs, wanted_intents = set(languages), set(intents)
    files: list[SuiteFile] = []
    for rel, text in _suite_texts(repo):
        parts = rel.split("/")
        if len(parts) != 4 or parts[0] != "tests" or not rel.endswith(".yaml"):
            continue
        _, lang, intent, _name = parts
        if lang not in wanted_langs or intent not in wanted_intents:
            continue
        data = yaml.safe_load(text) or {}
        files.append(SuiteFile("/".join(parts[1:]), lang, intent, data))
    return sorted(files, key=lambda f: f.path)


def _suite_texts(repo: Path) -> Iterator[tuple[str, str]]:
    if (repo / "tests").is_dir():
        for path in sorted((repo / "tests").glob("*/*/*.yaml")):
            yield str(path.relative_to(repo)), path.read_text(encoding="utf-8")
        return
    archive = subprocess.run(
        ["git", f"--git-dir={repo}", "archive", "--format=tar", "HEAD", "tests"],
        check=True,
        capture_output=True,
    ).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        for member in tar.getmembers():
            if member.isfile() and member.name.endswith(".yaml"):
                handle = tar.extractfile(member)
                if handle is not None:
                    yield member.name, handle.read().decode("utf-8")


# -- building a home per file -----------------------------------------------------------------


def _entity_class(domain: str) -> type[Entity]:
    base = DOMAINS[domain]

    class SuiteEntity(base):  # type: ignore[valid-type,misc]
        """A device with the state and attributes the test file gives it."""

        def __init__(self, spec: dict[str, Any], unique_id: str) -> None:
            attrs = dict(spec.get("attributes") or {})
            super().__init__(
                unique_id,
                spec["name"],
                device_class=attrs.get("device_class"),
            )
            state = spec.get("state")
            # {in: "開啟", out: "on"}: the state is `out`; `in` is how HA's test names it.
            self._state = state.get("out") if isinstance(state, dict) else state
            self._attrs = attrs

        @property
        def state(self) -> str | None:
            return None if self._state is None else str(self._state)

        @property
        def state_attributes(self) -> dict[str, Any]:
            return dict(self._attrs)

    return SuiteEntity


async def build_home(hub: Hub, spec: dict[str, Any]) -> tuple[str | None, list[str]]:
    """Replace the hub's home with the file's; returns (satellite area id, skipped domains)."""
    registry = hub.registry
    for entity in list(hub.entities.for_integration(INTEGRATION)):
        assert entity.entity_id is not None
        await hub.entities.async_remove(entity.entity_id, forget=True)
    for area in registry.areas.all():
        await registry.areas.async_delete(area.id)
    for floor in registry.floors.all():
        await registry.floors.async_delete(floor.id)
    floor_ids: dict[str, str] = {}
    for floor_spec in spec.get("floors") or []:
        floor = await registry.floors.async_create(floor_spec["name"])
        floor_ids[floor_spec["name"]] = floor.id
    context_area = None
    area_ids: dict[str, str] = {}
    for area_spec in spec.get("areas") or []:
        area = await registry.areas.async_create(
            area_spec["name"], floor_id=floor_ids.get(area_spec.get("floor") or "")
        )
        area_ids[area_spec["name"]] = area.id
        if area_spec.get("context_area"):
            context_area = area.id
    for ent_spec in spec.get("entities") or []:
        # Some files place an entity in an area they do not list: it exists all the same.
        name = ent_spec.get("area")
        if name and name not in area_ids:
            area_ids[name] = (await registry.areas.async_create(name)).id
    skipped = []
    if not any(e.get("domain") == "todo" for e in spec.get("entities") or []):
        # HA always has its shopping list; so does a Hearth home (the demo's todo list).
        spec = {**spec, "entities": [*(spec.get("entities") or []), SHOPPING_LIST]}
    for n, ent_spec in enumerate(spec.get("entities") or []):
        domain = ent_spec["domain"]
        if domain not in DOMAINS:
            skipped.append(domain)
            continue
        entity = _entity_class(domain)(ent_spec, f"{n}_{slugify(ent_spec['name'])}")
        (entity_id,) = await hub.entities.async_add(INTEGRATION, [entity])
        if ent_spec.get("area"):
            await registry.entities.async_update(entity_id, area_id=area_ids[ent_spec["area"]])
    return context_area, skipped


# -- judging ----------------------------------------------------------------------------------


def judge(
    pipeline: VoicePipeline,
    match: IntentMatch | None,
    plan: Plan | None,
    suite_file: SuiteFile,
    expected: dict[str, Any],
    context_area: str | None,
) -> Verdict:
    """Compare Hearth's intent, slots and plan targets with the test's expectation."""
    acted = plan is not None and bool(plan.actions)
    if match is None or plan is None:
        return Verdict("refused", False, "no match")
    refused = plan.reply_key in REFUSALS and not acted
    if refused and plan.reply_key not in EMPTY_ANSWERS:
        return Verdict("refused", False, f"{match.intent} {match.slots} -> {plan.reply_key}")
    if match.intent != suite_file.intent:
        if refused:
            return Verdict("refused", False, f"{match.intent} {match.slots} -> {plan.reply_key}")
        return Verdict("wrong", acted, f"intent {match.intent} {match.slots}")
    vocab = pipeline.vocabulary
    want = {k: v for k, v in expected.items() if k not in IGNORED_SLOTS}
    if "area" not in want and "area" in match.slots:
        # HA's suite leaves the satellite's area out of the expected slots.
        area = vocab.area(context_area or CONTEXT_SENTINEL)
        want["area"] = area.names[0] if area else context_area or CONTEXT_SENTINEL
    got: dict[str, Any] = {}
    for key, value in match.slots.items():
        if key in IGNORED_SLOTS:
            continue
        got[key] = _spoken_value(pipeline, key, value)
    for key in set(want) | set(got):
        if key not in got:
            return Verdict("wrong", acted, f"missing slot {key}: got {got}, want {want}")
        if key not in want:
            return Verdict("wrong", acted, f"extra slot {key}={got[key]!r}: want {want}")
        if not _same(got[key], want[key]):
            return Verdict("wrong", acted, f"slot {key}={got[key]!r}, want {want[key]!r}")
    bad = _targets_off(pipeline, plan, want, suite_file.intent)
    if bad:
        return Verdict("wrong", acted, bad)
    if refused:
        # Understood right and the answer "there is none here" is true; it did not act.
        return Verdict("right", False, plan.reply_key, empty=True)
    return Verdict("right", acted)


def _spoken_value(pipeline: VoicePipeline, key: str, value: Any) -> Any:
    vocab = pipeline.vocabulary
    if key == "name" and isinstance(value, str):
        ent = vocab.entity(value)
        return ent.names[0] if ent else value
    if key == "area" and isinstance(value, str):
        area = vocab.area(value)
        return area.names[0] if area else value
    if key == "floor" and isinstance(value, str):
        floor = vocab.floor(value)
        return floor.names[0] if floor else value
    return value


def _same(got: Any, want: Any) -> bool:
    if isinstance(want, list):
        return any(_same(got, w) for w in want)
    if isinstance(got, (list, tuple, set)):
        return any(_same(g, want) for g in got)
    try:
        return abs(float(got) - float(want)) < 1e-6
    except (TypeError, ValueError):
        return str(got).strip().casefold() == str(want).strip().casefold()


def _targets_off(pipeline: VoicePipeline, plan: Plan, want: dict[str, Any], intent: str) -> str:
    """Why the plan's service targets do not fit the named entity/area/floor, or ''."""
    vocab = pipeline.vocabulary
    if intent == "HassVacuumCleanArea":  # the area is where to clean, not where the robot is
        areas = [vocab.area(str(a.data.get("area"))) for a in plan.actions]
        if "area" in want and not all(a and _same(a.names[0], want["area"]) for a in areas):
            return f"cleaning {areas}, not {want['area']}"
        return ""
    for action in plan.actions:
        for eid in action.entity_ids:
            ent = vocab.entity(eid)
            if ent is None:
                continue
            if "name" in want and not _same(ent.names[0], want["name"]):
                return f"acted on {eid}, not {want['name']}"
            area = vocab.area(ent.area_id) if ent.area_id else None
            if "area" in want and (area is None or not _same(area.names[0], want["area"])):
                return f"acted on {eid} outside {want['area']}"
    return ""


# -- running ----------------------------------------------------------------------------------


async def run_suite(
    files: list[SuiteFile], show: str | None = None, workdir: Path | None = None
) -> Results:
    """Run every sentence of `files` through a real hub; one hub for the whole run."""
    results = Results()
    with tempfile.TemporaryDirectory() as tmp:
        hub = Hub(HubConfig.minimal(workdir or Path(tmp) / "hub"))
        await hub.async_start()
        pipeline = VoicePipeline(hub, VoiceSettings(), engines=[])
        pipeline.engines = []
        try:
            for suite_file in files:
                await _run_file(hub, pipeline, suite_file, results, show)
        finally:
            await pipeline.async_stop()
            await hub.async_stop()
    return results


async def _run_file(
    hub: Hub, pipeline: VoicePipeline, suite_file: SuiteFile, results: Results, show: str | None
) -> None:
    context_area, skipped = await build_home(hub, suite_file.data)
    absent = set(skipped)
    await pipeline.async_rebuild()
    tally = results.tallies[(suite_file.language, suite_file.intent, suite_file.half)]
    context = (CONTEXT_SENTINEL, CONTEXT_SENTINEL)
    if context_area is not None:
        context = (context_area, pipeline.home.area_name(context_area) or context_area)
    for test in suite_file.data.get("tests") or []:
        expected = dict(test.get("slots") or {})
        if _about_absent_domain(suite_file, expected, absent):
            tally.out_of_scope += len(test.get("sentences") or [])
            continue
        for sentence in test.get("sentences") or []:
            match = pipeline.recognize(sentence, suite_file.language, context)
            plan = (
                None if match is None else Planner(pipeline.home, pipeline.vocabulary).plan(match)
            )
            verdict = judge(pipeline, match, plan, suite_file, expected, context_area)
            said, same = None, False
            if test.get("response") is not None:
                said = _spoken_reply(pipeline, plan, suite_file.language)
                wanted = test["response"]
                wanted = wanted if isinstance(wanted, list) else [wanted]
                same = _norm(said) in {_norm(str(w)) for w in wanted}
                tally.response_total += 1
                tally.response_same += int(same)
                if verdict.outcome == "right" and not verdict.empty:
                    tally.response_found += 1
                    tally.response_found_same += int(same)
            if verdict.outcome == "right":
                tally.right += 1
                tally.right_empty += int(verdict.empty)
            elif verdict.outcome == "refused":
                tally.refused += 1
            else:
                tally.wrong += 1
                tally.wrong_action += int(verdict.acted)
            if show in (verdict.outcome, "all") or (show == "bad" and verdict.outcome != "right"):
                results.examples.append(
                    (suite_file.path, sentence, verdict.outcome, verdict.detail)
                )
            elif show == "response" and said is not None and not same:
                results.examples.append(
                    (suite_file.path, sentence, "reply", f"{said!r}, HA: {test['response']!r}")
                )


def _spoken_reply(pipeline: VoicePipeline, plan: Plan | None, language: str) -> str:
    """What Hearth would say, as if every action of the plan had succeeded."""
    if plan is None:
        return reply("no_match", language)
    if plan.confirm_key is not None:
        return reply(plan.confirm_key, language, **plan.reply_values)
    if plan.timer is None:
        return plan.reply(language)
    try:
        return async_apply_request(
            pipeline.timers, "suite", plan.timer, language, answer=plan.answer
        )
    finally:
        pipeline.timers.cancel_all()


def _norm(text: str) -> str:
    return " ".join(text.split())


def _about_absent_domain(suite_file: SuiteFile, expected: dict[str, Any], absent: set[str]) -> bool:
    """True when a test asks about an entity or domain Hearth has no model of."""
    if expected.get("domain") in ABSENT_DOMAINS:
        return True
    names = {e["name"]: e["domain"] for e in suite_file.data.get("entities") or []}
    named = expected.get("name")
    return isinstance(named, str) and names.get(named) in absent


def report(results: Results, languages: Iterable[str]) -> str:
    """Per intent and language: right / wrong (of which acted) / refused, for both halves."""
    out = io.StringIO()
    langs = list(languages)
    for half in ("dev", "test"):
        print(f"\n== {half} half (files split by sha1 of their path) ==", file=out)
        print(f"{'intent':<30}" + "".join(f"{lang:>22}" for lang in langs), file=out)
        intents = sorted({i for (_l, i, h) in results.tallies if h == half})
        totals = {lang: Tally() for lang in langs}
        for intent in intents:
            row = f"{intent:<30}"
            for lang in langs:
                t = results.tallies.get((lang, intent, half))
                if t is not None:
                    totals[lang].add(t)
                if t is None or t.total == 0:
                    row += f"{'-':>22}"
                    continue
                row += f"{f'{t.right}/{t.total} w{t.wrong}({t.wrong_action}) r{t.refused}':>22}"
            print(row, file=out)
        rows: list[tuple[str, Any]] = [
            ("TOTAL right", lambda t: f"{t.right}/{t.total} {_pct(t.right, t.total):.1f}%"),
            ("  of which answered none", lambda t: str(t.right_empty)),
            ("not counted: domain absent", lambda t: str(t.out_of_scope)),
            (
                "TOTAL wrong action",
                lambda t: f"{t.wrong_action} {_pct(t.wrong_action, t.total):.2f}%",
            ),
            ("TOTAL wrong / refused", lambda t: f"{t.wrong} / {t.refused}"),
            (
                "response matches HA",
                lambda t: (
                    f"{t.response_same}/{t.response_total}"
                    f" {_pct(t.response_same, t.response_total):.1f}%"
                ),
            ),
            (
                "  where the home had it",
                lambda t: (
                    f"{t.response_found_same}/{t.response_found}"
                    f" {_pct(t.response_found_same, t.response_found):.1f}%"
                ),
            ),
        ]
        for label, cell in rows:
            print(f"{label:<30}" + "".join(f"{cell(totals[lang]):>22}" for lang in langs), file=out)
    print("\ncells: right/total w<wrong>(<of which acted>) r<refused>", file=out)
    return out.getvalue()


def _pct(part: int, whole: int) -> float:
    return 100 * part / whole if whole else 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repo", type=Path, default=DEFAULT_REPO)
    parser.add_argument("--lang", nargs="+", default=list(LANGS))
    parser.add_argument("--intent", nargs="+", default=sorted(SUPPORTED_INTENTS))
    parser.add_argument("--half", choices=("dev", "test", "both"), default="both")
    parser.add_argument(
        "--show", choices=("wrong", "refused", "bad", "all", "response"), default=None
    )
    args = parser.parse_args()
    # Thousands of refused sentences would each log a warning; the report says it all.
    logging.getLogger("hub").setLevel(logging.CRITICAL)
    files = read_suite(args.repo, args.lang, args.intent)
    if args.half != "both":
        files = [f for f in files if f.half == args.half]
    started = time.perf_counter()
    results = asyncio.run(run_suite(files, args.show))
    sentences = sum(t.total for t in results.tallies.values())
    for path, sentence, outcome, detail in results.examples:
        print(f"{outcome:8} {path}: {sentence!r}  {detail}")
    print(report(results, args.lang))
    print(
        f"{len(files)} files, {sentences} sentences in {time.perf_counter() - started:.1f} s;"
        f" suite from {args.repo}"
    )


if __name__ == "__main__":
    main()
