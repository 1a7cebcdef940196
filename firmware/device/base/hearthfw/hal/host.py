"""Hardware layer under CPython: a virtual board for tests and the demo.

Wi-Fi is a virtual access point given by the runner, MQTT is paho behind umqtt.simple's API,
mDNS is python-zeroconf, a reset re-executes the process (same pid, fresh interpreter).
"""

import collections
import os
import socket
import sys
import threading
import time

NAME = "host"
SIMULATED = True

_cfg = {
    "root": ".",
    "id": None,
    "ap_ssid": None,
    "ap_password": None,
    "address": "127.0.0.1",
    "http_port": 0,
    "time_scale": 1.0,
    "mdns": True,
}
_inputs = {}
_zc = [None, None]  # (Zeroconf, ServiceInfo)


def configure(**options):
    """Set up the virtual board; called once by the host runner before the bootloader."""
    for key, value in options.items():
        if key not in _cfg:
            raise TypeError("unknown hal option: " + key)
        _cfg[key] = value


class MQTTError(Exception):
    """The broker refused the connection (umqtt.simple raises MQTTException the same way)."""


def root():
    return _cfg["root"]


def unique_id():
    if _cfg["id"] is None:
        path = os.path.join(_cfg["root"], "hw_id")
        try:
            with open(path) as f:
                _cfg["id"] = f.read().strip()
        except OSError:
            _cfg["id"] = os.urandom(6).hex()
            with open(path, "w") as f:
                f.write(_cfg["id"])
    return _cfg["id"]


def ticks_ms():
    return int(time.monotonic() * 1000)


def ticks_diff(a, b):
    return a - b


def ticks_add(a, delta):
    return a + delta


def sleep_ms(ms):
    time.sleep(ms / 1000)


def sim_ms():
    """Clock for the appliance models, sped up by the runner's time scale."""
    return int(time.monotonic() * 1000 * _cfg["time_scale"])


def wlan_connect(ssid, password, timeout_ms=15000):
    if _cfg["ap_ssid"] is None or ssid != _cfg["ap_ssid"]:
        raise OSError("wifi: network not found")
    if password != (_cfg["ap_password"] or ""):
        raise OSError("wifi: wrong password")
    return _cfg["address"]


def wlan_disconnect():
    pass


def random_bytes(n):
    return os.urandom(n)


def tls_context(ca_pem):
    """A client TLS context that trusts only the hub's CA and checks the broker's name."""
    import ssl

    context = ssl.create_default_context(cadata=ca_pem)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    return context


def provisioning_address():
    return (_cfg["address"], _cfg["http_port"])


class MQTTClient:
    """umqtt.simple.MQTTClient's interface over paho-mqtt; callbacks run in check_msg()."""

    def __init__(self, client_id, server, port=0, user=None, password=None, keepalive=0, ssl=None):
        import paho.mqtt.client as paho

        cid = client_id.decode() if isinstance(client_id, bytes) else client_id
        self._paho = paho.Client(
            paho.CallbackAPIVersion.VERSION2,
            client_id=cid,
            protocol=paho.MQTTv311,
            clean_session=True,
        )
        self._server = server
        self._port = port or 1883
        self._keepalive = keepalive or 60
        if user is not None:
            self._paho.username_pw_set(user, password)
        if ssl:
            self._paho.tls_set_context(ssl)
        self._queue = collections.deque()
        self._cb = None
        self._connack = threading.Event()
        self._rc = None
        self._lost = False
        self._paho.on_connect = self._on_connect
        self._paho.on_disconnect = self._on_disconnect
        self._paho.on_message = self._on_message
        self._paho.on_socket_open = _no_delay

    def set_callback(self, f):
        self._cb = f

    def set_last_will(self, topic, msg, retain=False, qos=0):
        self._paho.will_set(_s(topic), msg, qos=qos, retain=retain)

    def connect(self, clean_session=True):
        self._paho.connect(self._server, self._port, self._keepalive)
        self._paho.loop_start()
        if not self._connack.wait(10) or self._rc != 0:
            self._paho.loop_stop()
            raise MQTTError(self._rc if self._rc is not None else "no CONNACK")
        return False

    def disconnect(self):
        try:
            self._paho.disconnect()
        finally:
            self._paho.loop_stop()

    def ping(self):
        self._check()

    def publish(self, topic, msg, retain=False, qos=0):
        self._check()
        info = self._paho.publish(_s(topic), msg, qos=qos, retain=retain)
        if qos:
            info.wait_for_publish(10)
            if not info.is_published():
                raise OSError("publish not acknowledged")

    def subscribe(self, topic, qos=0):
        self._check()
        self._paho.subscribe(_s(topic), qos)

    def check_msg(self):
        self._check()
        while self._queue:
            topic, payload = self._queue.popleft()
            if self._cb is not None:
                self._cb(topic, payload)

    def _check(self):
        if self._lost:
            raise OSError("connection lost")

    def _on_connect(self, client, userdata, flags, rc, properties=None):
        self._rc = 0 if not rc.is_failure else rc.value
        self._connack.set()

    def _on_disconnect(self, client, userdata, flags, rc, properties=None):
        self._lost = True

    def _on_message(self, client, userdata, message):
        self._queue.append((message.topic.encode(), message.payload))


def _no_delay(client, userdata, sock):
    # Small MQTT packets otherwise wait on Nagle + delayed ACK (~40 ms each way).
    try:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    except (OSError, AttributeError):
        pass


def _s(topic):
    return topic.decode() if isinstance(topic, bytes) else topic


def mdns_start(instance, service, port, txt):
    from zeroconf import ServiceInfo, Zeroconf

    if not _cfg["mdns"]:
        return
    if _zc[0] is None:
        _zc[0] = Zeroconf()
    info = _service_info(ServiceInfo, instance, service, port, txt)
    _zc[0].register_service(info, allow_name_change=True)
    _zc[1] = info


def mdns_update(txt):
    from zeroconf import ServiceInfo

    if _zc[0] is None or _zc[1] is None:
        return
    old = _zc[1]
    info = ServiceInfo(
        old.type,
        old.name,
        addresses=old.addresses,
        port=old.port,
        properties=txt,
        server=old.server,
    )
    _zc[0].update_service(info)
    _zc[1] = info


def mdns_poll():
    pass  # zeroconf answers queries on its own thread


def mdns_stop():
    if _zc[0] is not None:
        _zc[0].close()
        _zc[0] = None
        _zc[1] = None


def _service_info(cls, instance, service, port, txt):
    type_ = service + ".local."
    return cls(
        type_,
        instance + "." + type_,
        addresses=[socket.inet_aton(_cfg["address"])],
        port=port,
        properties=txt,
        server="hearth-" + unique_id() + ".local.",
    )


def arm_deadline(ms, callback):
    timer = threading.Timer(ms / 1000, callback)
    timer.daemon = True
    timer.start()
    return timer


def cancel_deadline(handle):
    if handle is not None:
        handle.cancel()


def read_input(name):
    return _inputs.get(name)


def set_input(name, value):
    _inputs[name] = value


def reset():
    """Reboot: replace this process with a fresh interpreter running the same command line."""
    log("reset")
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(sys.executable, sys.orig_argv)


def log(*args):
    print(f"[{unique_id()}]", *args, flush=True)
