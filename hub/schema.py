"""A small, fast validator for service data and config sections; renders JSON Schema too."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from .errors import InvalidServiceData

__all__ = ["MISSING", "Field", "Schema", "ValidationErrors"]

FieldType = Literal["int", "float", "bool", "str", "enum", "rgb", "str_list", "dict", "any"]
MISSING: Any = object()
_TRUE = {"true", "on", "yes", "1"}
_FALSE = {"false", "off", "no", "0"}


class ValidationErrors(Exception):
    """Raised by Schema.check: maps a field name to what is wrong with it."""

    def __init__(self, errors: Mapping[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = dict(errors)


@dataclass(frozen=True, slots=True)
class Field:
    """One named value: its type, bounds, choices, default and a description."""

    type: FieldType = "any"
    required: bool = False
    min: float | None = None
    max: float | None = None
    choices: tuple[str, ...] | None = None
    default: Any = MISSING
    description: str = ""
    max_length: int = 10_000

    def coerce(self, value: Any) -> Any:
        """Return the value converted to this field's type, or raise ValueError."""
        kind = self.type
        if kind == "int":
            if isinstance(value, bool):
                raise ValueError("expected a whole number")
            if isinstance(value, float) and not value.is_integer():
                raise ValueError("expected a whole number")
            try:
                value = int(value)
            except (TypeError, ValueError):
                raise ValueError("expected a whole number") from None
            return self._bounded(value)
        if kind == "float":
            if isinstance(value, bool):
                raise ValueError("expected a number")
            try:
                value = float(value)
            except (TypeError, ValueError):
                raise ValueError("expected a number") from None
            if value != value or value in (float("inf"), float("-inf")):
                raise ValueError("expected a finite number")
            return self._bounded(value)
        if kind == "bool":
            if isinstance(value, bool):
                return value
            text = str(value).strip().lower()
            if text in _TRUE:
                return True
            if text in _FALSE:
                return False
            raise ValueError("expected true or false")
        if kind == "str":
            if not isinstance(value, str | int | float) or isinstance(value, bool):
                raise ValueError("expected text")
            text = str(value)
            if len(text) > self.max_length:
                raise ValueError(f"longer than {self.max_length} characters")
            return text
        if kind == "enum":
            text = str(value)
            if self.choices is not None and text not in self.choices:
                raise ValueError(f"expected one of {', '.join(self.choices)}")
            return text
        if kind == "rgb":
            if (
                not isinstance(value, list | tuple)
                or len(value) != 3
                or not all(isinstance(c, int) and not isinstance(c, bool) for c in value)
                or not all(0 <= c <= 255 for c in value)
            ):
                raise ValueError("expected [red, green, blue] with values 0-255")
            return tuple(value)
        if kind == "str_list":
            if isinstance(value, str):
                value = [value]
            if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
                raise ValueError("expected a list of text")
            return list(value)
        if kind == "dict":
            if not isinstance(value, Mapping):
                raise ValueError("expected a mapping")
            return dict(value)
        return value

    def _bounded(self, value: float) -> Any:
        if self.min is not None and value < self.min:
            raise ValueError(f"must be at least {_num(self.min)}")
        if self.max is not None and value > self.max:
            raise ValueError(f"must be at most {_num(self.max)}")
        return value

    def json_schema(self) -> dict[str, Any]:
        """Render this field as JSON Schema."""
        kinds: dict[str, dict[str, Any]] = {
            "int": {"type": "integer"},
            "float": {"type": "number"},
            "bool": {"type": "boolean"},
            "str": {"type": "string", "maxLength": self.max_length},
            "enum": {"type": "string", "enum": list(self.choices or ())},
            "rgb": {
                "type": "array",
                "items": {"type": "integer", "minimum": 0, "maximum": 255},
                "minItems": 3,
                "maxItems": 3,
            },
            "str_list": {"type": "array", "items": {"type": "string"}},
            "dict": {"type": "object"},
            "any": {},
        }
        out = dict(kinds[self.type])
        if self.min is not None:
            out["minimum"] = self.min
        if self.max is not None:
            out["maximum"] = self.max
        if self.description:
            out["description"] = self.description
        if self.default is not MISSING:
            out["default"] = self.default
        return out


@dataclass(frozen=True, slots=True)
class Schema:
    """A mapping of field names to Fields. Unknown keys are errors unless allow_extra."""

    fields: Mapping[str, Field] = field(default_factory=dict)
    allow_extra: bool = False

    def check(self, data: Mapping[str, Any] | None) -> dict[str, Any]:
        """Validate and coerce; raise ValidationErrors naming every bad field."""
        data = data or {}
        if not isinstance(data, Mapping):
            raise ValidationErrors({"": "expected a mapping"})
        out: dict[str, Any] = {}
        errors: dict[str, str] = {}
        for key, value in data.items():
            spec = self.fields.get(key)
            if spec is None:
                if self.allow_extra:
                    out[key] = value
                else:
                    errors[str(key)] = "unknown field"
                continue
            try:
                out[key] = spec.coerce(value)
            except ValueError as err:
                errors[key] = str(err)
        for key, spec in self.fields.items():
            if key in out or key in errors:
                continue
            if spec.default is not MISSING:
                out[key] = spec.default
            elif spec.required:
                errors[key] = "required"
        if errors:
            raise ValidationErrors(errors)
        return out

    def validate(self, data: Mapping[str, Any] | None) -> dict[str, Any]:
        """Validate service data; raise InvalidServiceData naming every bad field."""
        try:
            return self.check(data)
        except ValidationErrors as err:
            raise InvalidServiceData("invalid service data", err.errors) from None

    def json_schema(self) -> dict[str, Any]:
        """Render as a JSON Schema object."""
        return {
            "type": "object",
            "properties": {name: f.json_schema() for name, f in self.fields.items()},
            "required": [name for name, f in self.fields.items() if f.required],
            "additionalProperties": self.allow_extra,
        }


EMPTY_SCHEMA = Schema()


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)
