"""A damaged auth database is kept aside and restored from the hub's rolling backup."""

from __future__ import annotations

from pathlib import Path

from hub.safefile import backups_of
from web.authstore import AuthStore


async def test_damaged_auth_db_is_restored(tmp_path: Path) -> None:
    path = tmp_path / "auth.db"
    store = AuthStore(path)
    await store.async_open()
    await store.async_create_user("alice", "correct horse battery", role="admin", is_owner=True)
    await store.async_close()
    store = AuthStore(path)
    await store.async_open()  # a store with data and no backup yet: the daily one is made
    await store.async_close()
    assert backups_of(path)

    path.write_bytes(b"SQLite format 3\x00" + b"\xff" * 5000)  # header intact, pages garbage
    store = AuthStore(path)
    await store.async_open()
    assert store.find_user("alice") is not None
    recovery = store.database.recovery
    assert recovery is not None and recovery.restored_from is not None
    assert recovery.damaged_copy.exists()
    await store.async_close()
