"""Rule errors: each problem names the file, the line, the rule and the field."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

from hub.errors import ConfigError, EntityNotFound, NotSupported

__all__ = ["RuleIssue", "RuleNotFound", "RuleReadOnly", "RulesInvalid"]


@dataclass(frozen=True, slots=True)
class RuleIssue:
    """One problem in rule source: where it is and what is wrong."""

    file: str
    line: int | None
    rule: str | None
    field: str
    message: str

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}, line {self.line}"
        rule = f"rule {self.rule!r}: " if self.rule else ""
        field = f"{self.field}: " if self.field else ""
        return f"{where}: {rule}{field}{self.message}"

    def as_dict(self) -> dict[str, object]:
        """JSON-ready form for the dashboard."""
        return asdict(self)


class RulesInvalid(ConfigError):
    """Rule source was rejected as a whole; `issues` lists every problem found."""

    code = "rules_invalid"

    def __init__(self, issues: Sequence[RuleIssue]) -> None:
        self.issues = tuple(issues)
        first = self.issues[0] if self.issues else None
        shown = "; ".join(str(issue) for issue in self.issues[:5])
        more = f" (and {len(self.issues) - 5} more)" if len(self.issues) > 5 else ""
        super().__init__(
            f"invalid rules: {shown}{more}",
            first.file if first else None,
            first.line if first else None,
        )
        # ConfigError prefixes file and line; each issue already names its own.
        self.args = (f"invalid rules: {shown}{more}",)

    def as_dict(self) -> dict[str, object]:
        return {**super().as_dict(), "issues": [issue.as_dict() for issue in self.issues]}


class RuleNotFound(EntityNotFound):
    """No rule with that id."""

    code = "not_found"

    def __init__(self, rule_id: str) -> None:
        super().__init__(f"no rule with id {rule_id!r}")
        self.rule_id = rule_id


class RuleReadOnly(NotSupported):
    """The rule lives in rules.yaml; edit the file (then reload) instead."""

    code = "read_only"
