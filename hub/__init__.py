"""Hearth hub core: event bus, states, services, entities, registry, storage."""

import sys


def _import_sqlite_utils_without_numpy() -> None:
    # sqlite-utils imports numpy only to store numpy scalars, which Hearth never does; numpy
    # costs ~15 MB of RAM and ~0.1 s at start on a 2-core box, so it is hidden during that one
    # import. Anything that needs numpy later (voice) imports it normally.
    if "sqlite_utils" in sys.modules or "numpy" in sys.modules:
        return
    sys.modules["numpy"] = None  # type: ignore[assignment]
    try:
        import sqlite_utils  # noqa: F401
    finally:
        del sys.modules["numpy"]


_import_sqlite_utils_without_numpy()
