"""Selects: one option of a fixed list (a washing programme, a fan preset)."""

from __future__ import annotations

from typing import Any, ClassVar

from ..entity import Command, Entity
from ..errors import InvalidServiceData, NotSupported
from ..schema import Field, Schema


class SelectEntity(Entity):
    """A choice among options."""

    domain = "select"
    commands: ClassVar = (
        Command(
            "select_option",
            "async_handle_select",
            Schema({"option": Field("str", required=True)}),
        ),
    )

    current_option: str | None = None
    options: tuple[str, ...] = ()

    @property
    def state(self) -> str | None:
        return self.current_option

    @property
    def state_attributes(self) -> dict[str, Any]:
        return {"options": list(self.options)}

    async def async_handle_select(self, option: str) -> None:
        """Check the option, then select it."""
        if option not in self.options:
            raise InvalidServiceData(
                "unknown option", {"option": f"expected one of {', '.join(self.options)}"}
            )
        await self.async_select_option(option)

    async def async_select_option(self, option: str) -> None:
        """Select on the device."""
        raise NotSupported(f"{self.entity_id} cannot select")
