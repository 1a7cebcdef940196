"""Network backups kept by Hearth, and a new blank stick getting the old network back."""

from __future__ import annotations

import asyncio
import json
import logging
import stat
from pathlib import Path

import pytest
from zigpy.zcl.clusters.general import OnOff
from zigpy.zcl.clusters.security import IasZone

from integrations.zigbee.backup import KEEP, BackupStore
from integrations.zigbee.sim import SimAir
from integrations.zigbee.sim.profiles import make_device

from .conftest import HomeFactory


async def test_backup_is_kept_owner_only_and_holds_the_network_key(make_home: HomeFactory) -> None:
    home = await make_home()
    gateway = home.zigbee.gateway
    path = gateway.backups.path
    assert path.parent == home.hub.config_dir / ".storage"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    stored = json.loads(path.read_text())["backups"][-1]["network_info"]
    assert home.stick.network_info is not None
    key = home.stick.network_info.network_key.key
    assert stored["network_key"]["key"] == str(key)
    result = await home.hub.services.async_call("zigbee", "backup", {})
    assert result == {"backups": len(gateway.backups.load())} and result["backups"] >= 1


async def test_new_blank_stick_gets_the_network_back_without_pairing(
    make_home: HomeFactory, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    air = SimAir()
    config_dir = tmp_path / "home"
    old = await make_home(air=air, path="sim://old-stick", config_dir=config_dir)
    plug, door = make_device("metering_plug"), make_device("door_contact")
    await old.pair(plug, door)
    switch, contact = old.entity(plug, "switch"), old.entity(door, "binary_sensor")
    await old.hub.registry.devices.async_update(old.device_id(plug), name_by_user="Kettle")
    ids = old.entity_ids(plug) | old.entity_ids(door)
    assert old.stick.network_info is not None
    network = old.stick.network_info
    await old.hub.async_stop()
    old.stick.unplug()  # the old stick died

    with caplog.at_level(logging.WARNING, "integrations.zigbee"):
        new = await make_home(air=air, path="sim://new-stick", config_dir=config_dir)
    assert "restoring Hearth's backup" in caplog.text
    assert new.stick is not old.stick
    assert new.stick.network_info is not None
    # Hearth put the same network (PAN ids, channel, key) onto the blank stick.
    assert new.stick.network_info.extended_pan_id == network.extended_pan_id
    assert new.stick.network_info.pan_id == network.pan_id
    assert new.stick.network_info.channel == network.channel
    assert new.stick.network_info.network_key.key == network.network_key.key
    assert new.entity_ids(plug) | new.entity_ids(door) == ids
    entry = new.hub.registry.devices.get(new.device_id(plug))
    assert entry is not None and entry.name_by_user == "Kettle"
    # The devices never re-paired, yet talk to the new stick both ways.
    await new.call("switch", "turn_on", switch)
    await new.until_state(switch, "on")
    assert plug.get(OnOff.cluster_id, "on_off")
    door.send_command(
        IasZone,
        "status_change_notification",
        from_server=True,
        zone_status=IasZone.ZoneStatus.Alarm_1,
        extended_status=0,
        zone_id=0,
        delay=0,
    )
    await new.until_state(contact, "on")


def test_store_keeps_the_newest_and_survives_a_corrupt_file(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    store = BackupStore(tmp_path / "b.json")
    assert store.load() == [] and store.latest() is None
    store.path.write_text('{"backups": [{"network_info": {"nwk": ""}}]}')
    with caplog.at_level(logging.ERROR):
        assert store.load() == []
    assert "unreadable" in caplog.text
    store.path.write_text("not json")
    assert store.latest() is None


async def test_store_supersedes_older_backups_of_the_same_network(
    make_home: HomeFactory, tmp_path: Path
) -> None:
    home = await make_home()
    app = home.zigbee.gateway.app
    assert app is not None
    store = BackupStore(tmp_path / "b.json")
    first = await app.backups.create_backup(load_devices=False)
    store.save(first)
    store.save(first)
    assert len(store.load()) == 1  # the same network again replaces the older copy
    for counter in range(KEEP + 3):
        key = first.network_info.network_key.replace(tx_counter=counter)
        other = first.replace(
            network_info=first.network_info.replace(
                extended_pan_id=first.network_info.extended_pan_id.__class__(
                    bytes([counter + 1]) * 8
                ),
                network_key=key,
            )
        )
        store.save(other)
    backups = store.load()
    assert len(backups) == KEEP
    assert backups[-1].network_info.extended_pan_id == other.network_info.extended_pan_id


async def test_a_burst_of_backups_coalesces_and_never_corrupts_the_file(
    make_home: HomeFactory, caplog: pytest.LogCaptureFixture
) -> None:
    home = await make_home()
    gateway = home.zigbee.gateway
    taken = gateway.backups_taken
    with caplog.at_level(logging.ERROR, "integrations.zigbee"):
        # As when many devices finish joining at once: each asks for a backup.
        await asyncio.gather(*(gateway.async_backup() for _ in range(30)))
        # Saves from several threads at once still leave a readable file.
        app = gateway.app
        assert app is not None
        backup = await app.backups.create_backup(load_devices=True)
        await asyncio.gather(
            *(home.hub.async_add_executor_job(gateway.backups.save, backup) for _ in range(20))
        )
        assert gateway.backups.latest() is not None
    assert "unreadable" not in caplog.text
    assert 1 <= gateway.backups_taken - taken <= 2
