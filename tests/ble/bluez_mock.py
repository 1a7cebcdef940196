"""A private D-Bus with python-dbusmock standing in for bluetoothd, and a client to drive it."""

from __future__ import annotations

import asyncio
import os
import tempfile
from pathlib import Path
from typing import Any

from dbus_fast import Message, MessageType, Variant
from dbus_fast.aio import MessageBus

TEMPLATE = Path(__file__).with_name("bluez_template.py")
SYSTEM_PYTHON = "/usr/bin/python3"  # Debian's, which has dbus-python for dbusmock
ADAPTER = "hci0"


class BlueZMock:
    """One dbus-daemon plus one dbusmock process; async methods drive the mock over D-Bus."""

    def __init__(self, *, with_bluez: bool = True) -> None:
        self.with_bluez = with_bluez
        self._tmp = tempfile.TemporaryDirectory(prefix="hearth-bluez-")
        self.address = f"unix:path={self._tmp.name}/bus"
        self._daemon: asyncio.subprocess.Process | None = None
        self._mock: asyncio.subprocess.Process | None = None
        self._bus: MessageBus | None = None
        self.log_path = Path(self._tmp.name) / "dbusmock.log"

    async def async_start(self) -> None:
        """Start the bus and the mock bluetoothd; returns once org.bluez is on the bus."""
        self._daemon = await asyncio.create_subprocess_exec(
            "dbus-daemon",
            "--session",
            f"--address={self.address}",
            "--nofork",
            "--print-address",
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL,
        )
        assert self._daemon.stdout is not None
        # The daemon prints its address once it listens: reading it is the readiness signal.
        await self._daemon.stdout.readline()
        self._bus = await MessageBus(bus_address=self.address).connect()
        if not self.with_bluez:
            return
        env = dict(os.environ, DBUS_SYSTEM_BUS_ADDRESS=self.address)
        with self.log_path.open("wb") as log:
            self._mock = await asyncio.create_subprocess_exec(
                SYSTEM_PYTHON,
                "-m",
                "dbusmock",
                "--system",
                "--template",
                str(TEMPLATE),
                env=env,
                stdout=log,
                stderr=asyncio.subprocess.STDOUT,
            )
        for _ in range(400):
            reply = await self._bus.call(
                Message(
                    destination="org.freedesktop.DBus",
                    path="/org/freedesktop/DBus",
                    interface="org.freedesktop.DBus",
                    member="NameHasOwner",
                    signature="s",
                    body=["org.bluez"],
                )
            )
            if reply is not None and reply.body[0]:
                return
            if self._mock.returncode is not None:
                break
            await asyncio.sleep(0.05)
        raise RuntimeError(
            "the mock BlueZ did not start (it needs Debian's dbus, python3-dbus and "
            f"python3-dbusmock): {self.log_path.read_text(errors='replace')}"
        )

    async def async_stop(self) -> None:
        """Stop both processes and remove the socket directory."""
        if self._bus is not None:
            self._bus.disconnect()
        for proc in (self._mock, self._daemon):
            if proc is not None and proc.returncode is None:
                proc.terminate()
                try:
                    async with asyncio.timeout(10):
                        await proc.wait()
                except TimeoutError:
                    proc.kill()
                    await proc.wait()
        self._tmp.cleanup()

    async def call(self, member: str, signature: str = "", *body: Any) -> list[Any]:
        """Call an org.bluez.Mock method on the mock's root object."""
        assert self._bus is not None
        reply = await self._bus.call(
            Message(
                destination="org.bluez",
                path="/",
                interface="org.bluez.Mock",
                member=member,
                signature=signature,
                body=list(body),
            )
        )
        assert reply is not None
        if reply.message_type == MessageType.ERROR:
            raise RuntimeError(f"{member}: {reply.error_name} {reply.body}")
        return list(reply.body)

    # --- the test vocabulary -------------------------------------------------------------------

    async def add_adapter(
        self, name: str = ADAPTER, *, powered: bool = True, passive: bool = True
    ) -> str:
        """Add an LE adapter; passive=False models BlueZ without AdvertisementMonitor support."""
        return str((await self.call("AddLEAdapter", "sbb", name, powered, passive))[0])

    async def set_powered(self, powered: bool, name: str = ADAPTER) -> None:
        await self.call("SetAdapterPowered", "sb", name, powered)

    async def monitors(self, name: str = ADAPTER) -> list[str]:
        return list((await self.call("GetMonitors", "s", name))[0])

    async def add_device(
        self,
        address: str,
        *,
        name: str = "",
        manufacturer: dict[int, bytes] | None = None,
        service_data: dict[str, bytes] | None = None,
        uuids: list[str] | None = None,
        rssi: int = -60,
        address_type: str = "public",
    ) -> str:
        """A device starts advertising (BlueZ creates its Device1 object)."""
        reply = await self.call(
            "AddLEDevice",
            "ssssa{qay}a{say}asn",
            ADAPTER,
            address,
            address_type,
            name,
            manufacturer or {},
            service_data or {},
            uuids or [],
            rssi,
        )
        return str(reply[0])

    async def advertise(
        self,
        address: str,
        *,
        manufacturer: dict[int, bytes] | None = None,
        service_data: dict[str, bytes] | None = None,
        rssi: int = -60,
    ) -> None:
        """A known device sends a new advertisement."""
        await self.call(
            "Advertise",
            "ssa{qay}a{say}n",
            ADAPTER,
            address,
            manufacturer or {},
            service_data or {},
            rssi,
        )

    async def start_beacon(self, address: str, interval: float = 0.2) -> None:
        """Keep re-sending the device's current advert, like a real beacon."""
        await self.call("StartBeacon", "ssu", ADAPTER, address, int(interval * 1000))

    async def stop_beacon(self, address: str) -> None:
        """The device falls silent; its BlueZ object stays."""
        await self.call("StopBeacon", "ss", ADAPTER, address)

    async def remove_device(self, address: str) -> None:
        await self.call("RemoveLEDevice", "ss", ADAPTER, address)

    async def add_bulb(self, address: str, name: str = "SwitchBot Bulb") -> str:
        return str((await self.call("AddSwitchBotBulb", "sss", ADAPTER, address, name))[0])

    async def bulb_state(self, address: str) -> dict[str, Any]:
        raw: dict[str, Variant] = (await self.call("GetBulbState", "ss", ADAPTER, address))[0]
        return {key: value.value for key, value in raw.items()}

    async def bulb_writes(self, address: str) -> list[bytes]:
        return [bytes(w) for w in (await self.call("GetBulbWrites", "ss", ADAPTER, address))[0]]

    async def drop_link(self, address: str) -> None:
        await self.call("DropLink", "ss", ADAPTER, address)

    async def refuse_connect(self, address: str, refuse: bool) -> None:
        await self.call("SetRefuseConnect", "ssb", ADAPTER, address, refuse)

    async def connect_count(self, address: str) -> int:
        return int((await self.call("GetConnectCount", "ss", ADAPTER, address))[0])
