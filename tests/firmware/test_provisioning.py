"""Provisioning a virtual appliance over its HTTP endpoint, as the hub's pairing flow does."""

from __future__ import annotations

import asyncio
import json
import subprocess
from dataclasses import replace
from pathlib import Path

import aiohttp
import pytest
from zeroconf import ServiceStateChange
from zeroconf.asyncio import AsyncServiceBrowser, AsyncServiceInfo, AsyncZeroconf

from firmware.ota.keys import SigningKey
from firmware.provision import (
    SERVICE_TYPE,
    DeviceInfo,
    ProvisioningError,
    async_device_info,
    async_provision,
    seal_credentials,
)
from firmware.virtual import VirtualAppliance
from tests.mosquitto import Mosquitto

from .conftest import (
    AP_PASSWORD,
    AP_SSID,
    SETUP_CODE,
    DeviceFactory,
    MqttProbe,
    async_fetch_retained,
    async_provisioned,
    credentials_for,
)


async def test_provision_then_online(
    device_factory: DeviceFactory, broker: Mosquitto, signing_key: SigningKey, probe: MqttProbe
) -> None:
    device = device_factory("fridge")
    info = await device.async_wait_http()
    assert info["state"] == "unprovisioned"
    assert await async_device_info("127.0.0.1", device.http_port) == DeviceInfo(
        device.id, "Hearth HF-1 reference fridge", "fridge", "1.0.0"
    )

    result = await async_provision(
        "127.0.0.1", device.http_port, credentials_for(broker, signing_key)
    )
    assert result == DeviceInfo(device.id, "Hearth HF-1 reference fridge", "fridge", "1.0.0")
    online = await probe.wait_for(lambda m: m.topic == f"hearth/{device.id}/availability")
    assert online.payload == b"online"
    info = await device.async_info()
    assert info["state"] == "provisioned" and info["online"] is True

    # Only one hub gets to provision a device; the second attempt is refused.
    with pytest.raises(ProvisioningError, match="already provisioned"):
        await async_provision("127.0.0.1", device.http_port, credentials_for(broker, signing_key))

    # Credentials survive a power cut: after a restart it goes straight back online.
    device.kill()
    # The broker publishes the device's last will, retained for later subscribers.
    await probe.wait_for(
        lambda m: m.topic == f"hearth/{device.id}/availability" and m.payload == b"offline"
    )
    retained = await async_fetch_retained(broker, f"hearth/{device.id}/availability")
    assert retained == {f"hearth/{device.id}/availability": b"offline"}
    mark = probe.mark()
    device.start()
    await probe.wait_for(
        lambda m: m.topic == f"hearth/{device.id}/availability" and m.payload == b"online",
        since=mark,
    )
    assert (await device.async_info())["state"] == "provisioned"


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"wifi_password": "wrong password"}, "wifi: wrong password"),
        ({"wifi_ssid": "neighbours-wifi"}, "wifi: network not found"),
        ({"broker_password": "not-the-password"}, "broker refused"),
    ],
)
async def test_bad_credentials_are_reported_and_not_kept(
    device_factory: DeviceFactory,
    broker: Mosquitto,
    signing_key: SigningKey,
    overrides: dict[str, str],
    reason: str,
) -> None:
    device = device_factory("cleaner")
    await device.async_wait_http()
    with pytest.raises(ProvisioningError, match=reason):
        await async_provision(
            "127.0.0.1", device.http_port, credentials_for(broker, signing_key, **overrides)
        )
    info = await device.async_info()
    assert info["state"] == "unprovisioned"
    # The device stays open for a corrected attempt.
    ok = await async_provision("127.0.0.1", device.http_port, credentials_for(broker, signing_key))
    assert ok.profile == "cleaner"


async def test_broker_down_during_provisioning(
    device_factory: DeviceFactory, broker: Mosquitto, signing_key: SigningKey
) -> None:
    device = device_factory("fridge")
    await device.async_wait_http()
    await broker.async_stop()
    with pytest.raises(ProvisioningError, match="broker unreachable"):
        await async_provision("127.0.0.1", device.http_port, credentials_for(broker, signing_key))
    assert (await device.async_info())["state"] == "unprovisioned"


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"[1, 2, 3]",
        b'{"wifi_ssid": 5}',
        json.dumps({"wifi_ssid": "x" * 40, "wifi_password": "", "broker_host": "h"}).encode(),
        b"{" * 3000,
        b"\xff\xfe\x00garbage",
    ],
)
async def test_malformed_requests_are_answered_not_fatal(
    device_factory: DeviceFactory, body: bytes
) -> None:
    device = device_factory("fridge")
    await device.async_wait_http()
    url = f"http://127.0.0.1:{device.http_port}/provision"
    async with aiohttp.ClientSession() as session, session.post(url, data=body) as resp:
        assert resp.status == 400
        assert "error" in await resp.json()
    # A raw, broken HTTP request (no request line) must not take the device down either.
    reader, writer = await asyncio.open_connection("127.0.0.1", device.http_port)
    writer.write(b"\x00\x01garbage\r\n\r\n")
    await writer.drain()
    await reader.read()
    writer.close()
    info = await device.async_info()
    assert info["state"] == "unprovisioned"


async def test_bad_credentials_rejected_before_sending() -> None:
    from firmware.provision import Credentials

    creds = Credentials("ssid", "pw", "127.0.0.1", 1883, None, None, "not-a-key")
    with pytest.raises(ProvisioningError, match="OTA public key"):
        await async_provision("127.0.0.1", 9, creds)


async def test_unreachable_device() -> None:
    from tests.mosquitto import free_port

    with pytest.raises(ProvisioningError, match="unreachable"):
        await async_device_info("127.0.0.1", free_port())


async def test_announced_over_mdns(
    device_factory: DeviceFactory, broker: Mosquitto, signing_key: SigningKey
) -> None:
    device = device_factory("cleaner", mdns=True)
    await device.async_wait_http()
    found: asyncio.Queue[str] = asyncio.Queue()

    def on_change(
        zeroconf: object, service_type: str, name: str, state_change: ServiceStateChange
    ) -> None:
        if state_change is not ServiceStateChange.Removed:
            found.put_nowait(name)

    async with AsyncZeroconf() as azc:
        browser = AsyncServiceBrowser(azc.zeroconf, SERVICE_TYPE, handlers=[on_change])
        try:
            props: dict[bytes, bytes | None] = {}
            port = None
            while props.get(b"id") != device.id.encode():
                name = await asyncio.wait_for(found.get(), 30)
                info = AsyncServiceInfo(SERVICE_TYPE, name)
                if await info.async_request(azc.zeroconf, 3000):
                    props, port = dict(info.properties), info.port
        finally:
            await browser.async_cancel()
    assert props[b"state"] == b"unprovisioned"
    assert props[b"profile"] == b"cleaner"
    assert props[b"model"] == b"Hearth HC-1 reference robot cleaner"
    assert port == device.http_port
    # The announced address and port lead to the provisioning endpoint.
    provisioned = await async_provision("127.0.0.1", port, credentials_for(broker, signing_key))
    assert provisioned.id == device.id


async def test_setup_code_on_the_label_is_required(
    device_factory: DeviceFactory, broker: Mosquitto, signing_key: SigningKey
) -> None:
    device = device_factory("fridge", setup_code="24681012")
    assert (await device.async_wait_http())["setup_code_required"] is True
    creds = credentials_for(broker, signing_key)
    # Without the code the hub sends nothing at all.
    with pytest.raises(ProvisioningError, match="setup code on the device's label is required"):
        await async_provision("127.0.0.1", device.http_port, replace(creds, setup_code=None))
    with pytest.raises(ProvisioningError, match="wrong setup code"):
        await async_provision("127.0.0.1", device.http_port, replace(creds, setup_code="24681013"))
    # Credentials in plain text are refused, whatever they carry (the old, open hand-over).
    url = f"http://127.0.0.1:{device.http_port}/provision"
    plain = {**creds.as_payload(), "setup_code": "24681012"}
    async with aiohttp.ClientSession() as session, session.post(url, json=plain) as resp:
        assert resp.status == 400
        assert "sealed" in (await resp.json())["error"]
    assert (await device.async_info())["state"] == "unprovisioned"
    info = await async_provision(
        "127.0.0.1", device.http_port, replace(creds, setup_code="24681012")
    )
    assert info.id == device.id
    stored = json.loads((device.state_dir / "config.json").read_text())
    assert "setup_code" not in stored
    assert stored["broker_password"] == broker.password


async def test_the_hand_over_shows_no_secret_on_the_wire(
    device_factory: DeviceFactory, broker: Mosquitto, signing_key: SigningKey
) -> None:
    """What a listener on the open set-up network sees: keys, a nonce, ciphertext."""
    device = device_factory("fridge")
    info = await device.async_wait_http()
    creds = credentials_for(broker, signing_key)
    body, _key, _hub = seal_credentials(
        creds, SETUP_CODE, bytes.fromhex(info["pairing_key"]), device.id
    )
    wire = json.dumps(body)
    assert set(body) == {"v", "hub_key", "nonce", "sealed"}
    for secret in (AP_PASSWORD, broker.password or "", SETUP_CODE, AP_SSID):
        assert secret and secret not in wire and secret.encode().hex() not in wire
    # The same body under another code does not open on the device.
    wrong, _, _ = seal_credentials(creds, "00000000", bytes.fromhex(info["pairing_key"]), device.id)
    url = f"http://127.0.0.1:{device.http_port}/provision"
    async with aiohttp.ClientSession() as session:
        async with session.post(url, json=wrong) as resp:
            assert resp.status == 403
        async with session.post(url, json=body) as resp:
            assert resp.status == 200, await resp.text()
    assert (await device.async_info())["state"] == "provisioned"


async def test_guessing_the_setup_code_locks_provisioning(
    device_factory: DeviceFactory, broker: Mosquitto, signing_key: SigningKey
) -> None:
    device = device_factory("cleaner", setup_code="13579024")
    await device.async_wait_http()
    creds = credentials_for(broker, signing_key)
    for guess in range(5):
        with pytest.raises(ProvisioningError, match="wrong setup code"):
            await async_provision(
                "127.0.0.1", device.http_port, replace(creds, setup_code=f"0000000{guess}")
            )
    # Even the right code is refused until the lock-out ends.
    with pytest.raises(ProvisioningError, match="too many"):
        await async_provision("127.0.0.1", device.http_port, replace(creds, setup_code="13579024"))
    assert (await device.async_info())["state"] == "unprovisioned"


async def test_factory_reset_forgets_credentials(
    device_factory: DeviceFactory, broker: Mosquitto, signing_key: SigningKey, probe: MqttProbe
) -> None:
    device = await async_provisioned(device_factory, broker, signing_key, probe, "fridge")
    mark = probe.mark()
    probe.publish(f"hearth/{device.id}/set/mode", "eco")
    await probe.wait_state(device.id, lambda s: s["mode"] == "eco", since=mark)
    device.kill()
    device.start(factory_reset=True)
    info = await device.async_wait_http()
    assert info["state"] == "unprovisioned" and not info["online"]
    mark = probe.mark()
    await async_provision("127.0.0.1", device.http_port, credentials_for(broker, signing_key))
    state = await probe.wait_state(device.id, lambda s: True, since=mark)
    assert state["mode"] == "normal"  # settings went with the credentials


@pytest.mark.parametrize("secret", ["-starts-with-a-dash", "--looks-like-an-option"])
def test_a_password_starting_with_a_dash_reaches_the_device(tmp_path: Path, secret: str) -> None:
    # token_urlsafe() begins with "-" once in 64 labels; CI once lost 27 tests to it.
    appliance = VirtualAppliance(
        "dashx1", "fridge", tmp_path / "dev", ap_password=secret, setup_code=secret
    )
    parsed = subprocess.run(
        [*appliance.argv, "--help"], capture_output=True, text=True, timeout=60, check=False
    )
    assert parsed.returncode == 0, parsed.stderr
