"""python-dbusmock template: a BlueZ 5 LE stack with real advert types, GATT and a bulb.

Runs inside dbusmock under Debian's python3 (it needs dbus-python), never imported by the tests.
It extends dbusmock's bluez5 template so that what bleak sees on the bus has the types BlueZ
really sends: ManufacturerData as a{qv} and ServiceData as a{sv} holding byte arrays, adverts that
change at run time, devices that vanish, GattService1/GattCharacteristic1 objects with
ReadValue/WriteValue/StartNotify, and the device side of the SwitchBot Color Bulb BLE open API
(https://github.com/OpenWonderLabs/SwitchBotAPI-BLE, devicetypes/colorbulb.md).
"""

import dbus
from dbusmock import OBJECT_MANAGER_IFACE, mockobject
from dbusmock.templates import bluez5
from gi.repository import GLib

BUS_NAME = "org.bluez"
MAIN_OBJ = "/"
SYSTEM_BUS = True
IS_OBJECT_MANAGER = True

MOCK_IFACE = "org.bluez.Mock"
ADAPTER_IFACE = "org.bluez.Adapter1"
MONITOR_MANAGER_IFACE = "org.bluez.AdvertisementMonitorManager1"
DEVICE_IFACE = "org.bluez.Device1"
SERVICE_IFACE = "org.bluez.GattService1"
CHAR_IFACE = "org.bluez.GattCharacteristic1"

BULB_SERVICE = "cba20d00-224d-11e6-9fb8-0002a5d5c51b"
BULB_RX = "cba20002-224d-11e6-9fb8-0002a5d5c51b"  # terminal -> device (write)
BULB_TX = "cba20003-224d-11e6-9fb8-0002a5d5c51b"  # device -> terminal (notify)
SWITCHBOT_COMPANY = 0x0969
SWITCHBOT_SERVICE_DATA = "0000fd3d-0000-1000-8000-00805f9b34fb"


def load(mock, parameters):
    """Set up the agent manager from the stock template; adapters come from AddLEAdapter."""
    bluez5.load(mock, parameters)
    mock.bulbs = {}
    mock.beacons = {}


def _emit_changed(obj, iface, changed):
    obj.EmitSignal(dbus.PROPERTIES_IFACE, "PropertiesChanged", "sa{sv}as", [iface, changed, []])


def _set_props(obj, iface, changed):
    """Store and announce property changes, as bluetoothd does."""
    for key, value in changed.items():
        obj.props[iface][key] = value
    _emit_changed(obj, iface, changed)


def _manufacturer(data):
    return dbus.Dictionary(
        {dbus.UInt16(k): dbus.Array(bytes(v), signature="y") for k, v in data.items()},
        signature="qv",
        variant_level=1,
    )


def _service_data(data):
    return dbus.Dictionary(
        {dbus.String(k): dbus.Array(bytes(v), signature="y") for k, v in data.items()},
        signature="sv",
        variant_level=1,
    )


def _device_path(adapter, address):
    return f"/org/bluez/{adapter}/dev_{address.replace(':', '_').upper()}"


def _announce_added(path, iface, props):
    mockobject.objects["/"].EmitSignal(
        OBJECT_MANAGER_IFACE,
        "InterfacesAdded",
        "oa{sa{sv}}",
        [dbus.ObjectPath(path), {iface: props}],
    )


def _remove(path, ifaces):
    mockobject.objects["/"].RemoveObject(path)
    mockobject.objects["/"].EmitSignal(
        OBJECT_MANAGER_IFACE, "InterfacesRemoved", "oas", [dbus.ObjectPath(path), ifaces]
    )


# --- adapter -----------------------------------------------------------------------------------


def StartDiscovery(adapter):
    # bluetoothd refuses to scan on a powered-off controller with NotReady.
    if not adapter.props[ADAPTER_IFACE]["Powered"]:
        raise dbus.exceptions.DBusException("Resource Not Ready", name="org.bluez.Error.NotReady")
    _set_props(adapter, ADAPTER_IFACE, {"Discovering": dbus.Boolean(True, variant_level=1)})


def StopDiscovery(adapter):
    _set_props(adapter, ADAPTER_IFACE, {"Discovering": dbus.Boolean(False, variant_level=1)})


def RegisterMonitor(adapter, path):
    if not adapter.props[ADAPTER_IFACE]["Powered"]:
        raise dbus.exceptions.DBusException("Resource Not Ready", name="org.bluez.Error.NotReady")
    adapter.monitors.append(str(path))


def UnregisterMonitor(adapter, path):
    if str(path) in adapter.monitors:
        adapter.monitors.remove(str(path))


@dbus.service.method(MOCK_IFACE, in_signature="sbb", out_signature="s")
def AddLEAdapter(self, name, powered, passive):
    """Add an LE central adapter; passive=True also offers AdvertisementMonitorManager1."""
    path = "/org/bluez/" + name
    props = {
        "Address": dbus.String("00:1A:7D:DA:71:1" + name[-1], variant_level=1),
        "AddressType": dbus.String("public", variant_level=1),
        "Name": dbus.String("hearth-" + name, variant_level=1),
        "Alias": dbus.String("hearth-" + name, variant_level=1),
        "Class": dbus.UInt32(0, variant_level=1),
        "Powered": dbus.Boolean(powered, variant_level=1),
        "Discoverable": dbus.Boolean(False, variant_level=1),
        "Pairable": dbus.Boolean(True, variant_level=1),
        "Discovering": dbus.Boolean(False, variant_level=1),
        "UUIDs": dbus.Array([], signature="s", variant_level=1),
        "Roles": dbus.Array(["central", "peripheral"], signature="s", variant_level=1),
        "Modalias": dbus.String("usb:v1D6Bp0246d0542", variant_level=1),
    }
    self.AddObject(
        path,
        ADAPTER_IFACE,
        props,
        [
            ("StartDiscovery", "", "", StartDiscovery),
            ("StopDiscovery", "", "", StopDiscovery),
            ("SetDiscoveryFilter", "a{sv}", "", ""),
            ("RemoveDevice", "o", "", RemoveDeviceFromAdapter),
        ],
    )
    adapter = mockobject.objects[path]
    adapter.monitors = []
    ifaces = {ADAPTER_IFACE: props}
    if passive:
        monitor_props = {
            "SupportedMonitorTypes": dbus.Array(["or_patterns"], signature="s", variant_level=1),
            "SupportedFeatures": dbus.Array([], signature="s", variant_level=1),
        }
        adapter.AddProperties(MONITOR_MANAGER_IFACE, monitor_props)
        adapter.AddMethods(
            MONITOR_MANAGER_IFACE,
            [
                ("RegisterMonitor", "o", "", RegisterMonitor),
                ("UnregisterMonitor", "o", "", UnregisterMonitor),
            ],
        )
        ifaces[MONITOR_MANAGER_IFACE] = monitor_props
    mockobject.objects["/"].EmitSignal(
        OBJECT_MANAGER_IFACE, "InterfacesAdded", "oa{sa{sv}}", [dbus.ObjectPath(path), ifaces]
    )
    return path


@dbus.service.method(MOCK_IFACE, in_signature="sb", out_signature="")
def SetAdapterPowered(self, name, powered):
    """Switch an adapter's radio on or off (what rfkill or the power button does)."""
    _set_props(
        mockobject.objects["/org/bluez/" + name],
        ADAPTER_IFACE,
        {"Powered": dbus.Boolean(powered, variant_level=1)},
    )


@dbus.service.method(MOCK_IFACE, in_signature="s", out_signature="as")
def GetMonitors(self, name):
    return dbus.Array(mockobject.objects["/org/bluez/" + name].monitors, signature="s")


def RemoveDeviceFromAdapter(adapter, path):
    _remove_device_tree(str(path))


# --- devices and adverts -----------------------------------------------------------------------


def Connect(device):
    if device.props[DEVICE_IFACE]["Connected"]:
        raise dbus.exceptions.DBusException(
            "Already Connected", name="org.bluez.Error.AlreadyConnected"
        )
    if device.refuse_connect:
        raise dbus.exceptions.DBusException("Page Timeout", name="org.bluez.Error.Failed")
    _set_props(device, DEVICE_IFACE, {"Connected": dbus.Boolean(True, variant_level=1)})
    # GATT objects already exist (cached); resolving them is what ServicesResolved announces.
    _set_props(device, DEVICE_IFACE, {"ServicesResolved": dbus.Boolean(True, variant_level=1)})
    device.connect_count += 1


def Disconnect(device):
    _drop_link(device)


def _drop_link(device):
    for char in _chars_of(device.path):
        if char.props[CHAR_IFACE]["Notifying"]:
            _set_props(char, CHAR_IFACE, {"Notifying": dbus.Boolean(False, variant_level=1)})
    _set_props(
        device,
        DEVICE_IFACE,
        {
            "ServicesResolved": dbus.Boolean(False, variant_level=1),
            "Connected": dbus.Boolean(False, variant_level=1),
        },
    )


@dbus.service.method(MOCK_IFACE, in_signature="ssssa{qay}a{say}asn", out_signature="s")
def AddLEDevice(
    self, adapter, address, address_type, name, manufacturer, service_data, uuids, rssi
):
    """Add a device that has just advertised; name may be '' (no local name in the advert)."""
    path = _device_path(adapter, address)
    if path in mockobject.objects:
        Advertise(self, adapter, address, manufacturer, service_data, rssi)
        return path
    props = {
        "Address": dbus.String(address, variant_level=1),
        "AddressType": dbus.String(address_type, variant_level=1),
        "Alias": dbus.String(name or address.replace(":", "-"), variant_level=1),
        "Paired": dbus.Boolean(False, variant_level=1),
        "Bonded": dbus.Boolean(False, variant_level=1),
        "Trusted": dbus.Boolean(False, variant_level=1),
        "Blocked": dbus.Boolean(False, variant_level=1),
        "LegacyPairing": dbus.Boolean(False, variant_level=1),
        "Connected": dbus.Boolean(False, variant_level=1),
        "ServicesResolved": dbus.Boolean(False, variant_level=1),
        "UUIDs": dbus.Array(list(uuids), signature="s", variant_level=1),
        "Adapter": dbus.ObjectPath("/org/bluez/" + adapter, variant_level=1),
        "RSSI": dbus.Int16(rssi, variant_level=1),
        "ManufacturerData": _manufacturer(manufacturer),
        "ServiceData": _service_data(service_data),
    }
    if name:
        props["Name"] = dbus.String(name, variant_level=1)
    self.AddObject(
        path,
        DEVICE_IFACE,
        props,
        [
            ("Connect", "", "", Connect),
            ("Disconnect", "", "", Disconnect),
            ("Pair", "", "", ""),
            ("CancelPairing", "", "", ""),
        ],
    )
    device = mockobject.objects[path]
    device.refuse_connect = False
    device.connect_count = 0
    _announce_added(path, DEVICE_IFACE, props)
    return path


@dbus.service.method(MOCK_IFACE, in_signature="ssa{qay}a{say}n", out_signature="")
def Advertise(self, adapter, address, manufacturer, service_data, rssi):
    """A new advert from a known device: BlueZ merges it into the Device1 properties."""
    device = mockobject.objects[_device_path(adapter, address)]
    changed = {"RSSI": dbus.Int16(rssi, variant_level=1)}
    if manufacturer:
        changed["ManufacturerData"] = _manufacturer(manufacturer)
    if service_data:
        changed["ServiceData"] = _service_data(service_data)
    _set_props(device, DEVICE_IFACE, changed)


@dbus.service.method(MOCK_IFACE, in_signature="ssu", out_signature="")
def StartBeacon(self, adapter, address, interval_ms):
    """Re-send the device's current advert every interval_ms, as a real beacon does."""
    StopBeacon(self, adapter, address)
    path = _device_path(adapter, address)

    def tick():
        device = mockobject.objects.get(path)
        if device is None:
            return False
        props = device.props[DEVICE_IFACE]
        changed = {k: props[k] for k in ("RSSI", "ManufacturerData", "ServiceData")}
        _emit_changed(device, DEVICE_IFACE, changed)
        return True

    self.beacons[path] = GLib.timeout_add(interval_ms, tick)


@dbus.service.method(MOCK_IFACE, in_signature="ss", out_signature="")
def StopBeacon(self, adapter, address):
    """The device falls silent (out of range, flat battery); BlueZ keeps its object."""
    source = self.beacons.pop(_device_path(adapter, address), None)
    if source is not None:
        GLib.source_remove(source)


@dbus.service.method(MOCK_IFACE, in_signature="ss", out_signature="")
def RemoveLEDevice(self, adapter, address):
    """The device left: bluetoothd drops it (and its GATT objects) from the tree."""
    _remove_device_tree(_device_path(adapter, address))


def _remove_device_tree(path):
    children = sorted((p for p in mockobject.objects if p.startswith(path + "/")), reverse=True)
    for child in children:
        iface = CHAR_IFACE if "/char" in child.rsplit("/", 1)[-1] else SERVICE_IFACE
        _remove(child, [iface])
    _remove(path, [DEVICE_IFACE])
    root = mockobject.objects["/"]
    root.bulbs.pop(path, None)
    source = root.beacons.pop(path, None)
    if source is not None:
        GLib.source_remove(source)


@dbus.service.method(MOCK_IFACE, in_signature="ss", out_signature="")
def DropLink(self, adapter, address):
    """The radio link is lost (out of range, power cut): Connected goes false unasked."""
    _drop_link(mockobject.objects[_device_path(adapter, address)])


@dbus.service.method(MOCK_IFACE, in_signature="ssb", out_signature="")
def SetRefuseConnect(self, adapter, address, refuse):
    mockobject.objects[_device_path(adapter, address)].refuse_connect = bool(refuse)


@dbus.service.method(MOCK_IFACE, in_signature="ss", out_signature="u")
def GetConnectCount(self, adapter, address):
    return dbus.UInt32(mockobject.objects[_device_path(adapter, address)].connect_count)


# --- GATT --------------------------------------------------------------------------------------


def _chars_of(device_path):
    return [
        obj
        for path, obj in mockobject.objects.items()
        if path.startswith(device_path + "/") and CHAR_IFACE in obj.props
    ]


def ReadValue(char, options):
    _require_link(char)
    return dbus.Array(char.props[CHAR_IFACE]["Value"], signature="y")


def WriteValue(char, value, options):
    _require_link(char)
    data = bytes(value)
    char.writes.append(data)
    handler = char.on_write
    if handler is not None:
        handler(char, data)


def StartNotify(char):
    _require_link(char)
    _set_props(char, CHAR_IFACE, {"Notifying": dbus.Boolean(True, variant_level=1)})


def StopNotify(char):
    _set_props(char, CHAR_IFACE, {"Notifying": dbus.Boolean(False, variant_level=1)})


def _require_link(char):
    device = mockobject.objects[char.device_path]
    if not device.props[DEVICE_IFACE]["Connected"]:
        raise dbus.exceptions.DBusException("Not connected", name="org.bluez.Error.NotConnected")


def _notify(char, data):
    """Device-side notification: BlueZ reports it as a Value change on the characteristic."""
    value = dbus.Array(bytes(data), signature="y", variant_level=1)
    char.props[CHAR_IFACE]["Value"] = value
    if char.props[CHAR_IFACE]["Notifying"]:
        _emit_changed(char, CHAR_IFACE, {"Value": value})


def _add_service(device_path, handle, uuid):
    path = f"{device_path}/service{handle:04x}"
    props = {
        "UUID": dbus.String(uuid, variant_level=1),
        "Device": dbus.ObjectPath(device_path, variant_level=1),
        "Primary": dbus.Boolean(True, variant_level=1),
        "Includes": dbus.Array([], signature="o", variant_level=1),
        "Handle": dbus.UInt16(handle, variant_level=1),
    }
    mockobject.objects["/"].AddObject(path, SERVICE_IFACE, props, [])
    _announce_added(path, SERVICE_IFACE, props)
    return path


def _add_char(device_path, service_path, handle, uuid, flags, on_write=None):
    path = f"{service_path}/char{handle:04x}"
    props = {
        "UUID": dbus.String(uuid, variant_level=1),
        "Service": dbus.ObjectPath(service_path, variant_level=1),
        "Value": dbus.Array([], signature="y", variant_level=1),
        "Notifying": dbus.Boolean(False, variant_level=1),
        "Flags": dbus.Array(flags, signature="s", variant_level=1),
        "Handle": dbus.UInt16(handle, variant_level=1),
        "MTU": dbus.UInt16(23, variant_level=1),
    }
    mockobject.objects["/"].AddObject(
        path,
        CHAR_IFACE,
        props,
        [
            ("ReadValue", "a{sv}", "ay", ReadValue),
            ("WriteValue", "aya{sv}", "", WriteValue),
            ("StartNotify", "", "", StartNotify),
            ("StopNotify", "", "", StopNotify),
        ],
    )
    char = mockobject.objects[path]
    char.writes = []
    char.on_write = on_write
    char.device_path = device_path
    _announce_added(path, CHAR_IFACE, props)
    return char


# --- SwitchBot Color Bulb (device side of the open API) ----------------------------------------


class _Bulb:
    """The bulb's firmware state, as the open API describes it."""

    def __init__(self, adapter, address, device_path):
        self.adapter = adapter
        self.address = address
        self.device_path = device_path
        self.on = False
        self.level = 100
        self.rgb = (255, 255, 255)
        self.kelvin = 2700
        self.mode = 1  # 1 white, 2 color
        self.sequence = 1
        self.tx = None

    def manufacturer(self):
        mac = bytes.fromhex(self.address.replace(":", ""))
        power_level = (0x80 if self.on else 0) | (self.level & 0x7F)
        return {SWITCHBOT_COMPANY: mac + bytes([self.sequence, power_level, self.mode, 0, 0])}

    def response(self):
        r, g, b = self.rgb
        kelvin = self.kelvin if self.mode == 1 else 0
        power = 0x80 if self.on else 0
        return (
            bytes([0x01, power, self.level, r, g, b])
            + kelvin.to_bytes(2, "big")
            + bytes([0xFF, 0xFF, self.mode])
        )

    def handle(self, data):
        """Apply one REQ packet; return the RESP bytes (byte 0 0x01 ok, 0x05 unknown command)."""
        if data == b"\x57\x0f\x48\x01":
            return self.response()
        if len(data) < 5 or data[:4] != b"\x57\x0f\x47\x01":
            return b"\x05"
        sub, args = data[4], data[5:]
        needed = {0x01: 0, 0x02: 0, 0x03: 0, 0x12: 4, 0x13: 3, 0x14: 1, 0x16: 4, 0x17: 2}
        if sub not in needed or len(args) < needed[sub]:
            return b"\x05"
        if sub == 0x01:
            self.on = True
        elif sub == 0x02:
            self.on = False
        elif sub == 0x03:
            self.on = not self.on
        elif sub in (0x12, 0x16):
            self.on = True
            self.level = min(args[0], 100)
            self.rgb = (args[1], args[2], args[3])
            self.mode = 2
        elif sub == 0x13:
            self.on = True
            self.level = min(args[0], 100)
            self.kelvin = int.from_bytes(args[1:3], "big")
            self.mode = 1
        elif sub == 0x14:
            self.on = True
            self.level = min(args[0], 100)
        elif sub == 0x17:
            self.on = True
            self.kelvin = int.from_bytes(args[0:2], "big")
            self.mode = 1
        self.sequence = self.sequence % 255 + 1
        return self.response()


def _bulb_rx_written(char, data):
    bulb = mockobject.objects["/"].bulbs[char.device_path]
    reply = bulb.handle(data)
    _notify(bulb.tx, reply)
    Advertise(mockobject.objects["/"], bulb.adapter, bulb.address, bulb.manufacturer(), {}, -60)


@dbus.service.method(MOCK_IFACE, in_signature="sss", out_signature="s")
def AddSwitchBotBulb(self, adapter, address, name):
    """Add a SwitchBot Color Bulb: its adverts plus the GATT service of the open API."""
    path = _device_path(adapter, address)
    bulb = _Bulb(adapter, address, path)
    AddLEDevice(
        self,
        adapter,
        address,
        "random",
        name,
        bulb.manufacturer(),
        {SWITCHBOT_SERVICE_DATA: bytes([0x75])},
        [BULB_SERVICE],
        -60,
    )
    service = _add_service(path, 0x0010, BULB_SERVICE)
    _add_char(path, service, 0x0011, BULB_RX, ["write", "write-without-response"], _bulb_rx_written)
    bulb.tx = _add_char(path, service, 0x0013, BULB_TX, ["read", "notify"])
    self.bulbs[path] = bulb
    return path


@dbus.service.method(MOCK_IFACE, in_signature="ss", out_signature="a{sv}")
def GetBulbState(self, adapter, address):
    bulb = self.bulbs[_device_path(adapter, address)]
    return {
        "on": dbus.Boolean(bulb.on),
        "level": dbus.Int32(bulb.level),
        "rgb": dbus.Array(list(bulb.rgb), signature="i"),
        "kelvin": dbus.Int32(bulb.kelvin),
        "mode": dbus.Int32(bulb.mode),
    }


@dbus.service.method(MOCK_IFACE, in_signature="ss", out_signature="aay")
def GetBulbWrites(self, adapter, address):
    path = _device_path(adapter, address)
    writes = [w for c in _chars_of(path) for w in c.writes]
    return dbus.Array([dbus.Array(w, signature="y") for w in writes], signature="ay")
