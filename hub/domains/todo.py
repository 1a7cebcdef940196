"""To-do lists, such as the shopping list. The state is the number of open items."""

from __future__ import annotations

from typing import Any, ClassVar

from ..entity import Command, Entity
from ..schema import Field, Schema

_ITEM = Schema({"item": Field("str", required=True, max_length=200)})


class TodoEntity(Entity):
    """A list of items kept by the hub."""

    domain = "todo"
    commands: ClassVar = (
        Command("add_item", "async_add_item", _ITEM, "Add an item"),
        Command("remove_item", "async_remove_item", _ITEM, "Remove an item"),
        Command("clear", "async_clear", description="Remove every item"),
    )

    def __init__(self, unique_id: str, name: str, **kwargs: Any) -> None:
        super().__init__(unique_id, name, **kwargs)
        self.items: list[str] = []

    @property
    def state(self) -> str | None:
        return str(len(self.items))

    @property
    def state_attributes(self) -> dict[str, Any]:
        return {"items": list(self.items)}

    async def async_add_item(self, item: str) -> None:
        """Add an item unless it is already on the list."""
        if item.lower() not in (i.lower() for i in self.items):
            self.items.append(item)
        self.async_write_state()

    async def async_remove_item(self, item: str) -> None:
        """Remove an item (case-insensitive)."""
        self.items = [i for i in self.items if i.lower() != item.lower()]
        self.async_write_state()

    async def async_clear(self) -> None:
        """Empty the list."""
        self.items = []
        self.async_write_state()
