"""Hardware layer for a real MicroPython board (ESP32-class: network, machine, umqtt.simple)."""

import os
import time

import machine
import network
from umqtt.simple import MQTTClient  # noqa: F401 - re-exported for the application
from umqtt.simple import MQTTException as MQTTError  # noqa: F401

NAME = "board"
SIMULATED = False
# GPIO numbers for the physical inputs the profiles read (reed switch on the fridge door).
PINS = {"door": 4, "factory_reset": 0}  # GPIO0 is the BOOT button on ESP32 boards

_sta = network.WLAN(network.STA_IF)
_ap = network.WLAN(network.AP_IF)
_mdns = None
_timer = None


def root():
    return ""


def unique_id():
    return "".join(f"{b:02x}" for b in machine.unique_id())


def ticks_ms():
    return time.ticks_ms()


def ticks_diff(a, b):
    return time.ticks_diff(a, b)


def ticks_add(a, delta):
    return time.ticks_add(a, delta)


def sleep_ms(ms):
    time.sleep_ms(ms)


def sim_ms():
    return time.ticks_ms()


def wlan_connect(ssid, password, timeout_ms=15000):
    """Join the network as a station; return the IP address or raise OSError with the reason."""
    _sta.active(True)
    _sta.connect(ssid, password)
    start = time.ticks_ms()
    while not _sta.isconnected():
        status = _sta.status()
        if status == network.STAT_WRONG_PASSWORD:
            _sta.disconnect()
            raise OSError("wifi: wrong password")
        if status == network.STAT_NO_AP_FOUND:
            _sta.disconnect()
            raise OSError("wifi: network not found")
        if time.ticks_diff(time.ticks_ms(), start) > timeout_ms:
            _sta.disconnect()
            raise OSError("wifi: join timed out")
        time.sleep_ms(100)
    return _sta.ifconfig()[0]


def wlan_disconnect():
    _sta.disconnect()


def random_bytes(n):
    return os.urandom(n)  # the ESP32's hardware RNG


def tls_context(ca_pem):
    """A client TLS context that trusts only the hub's CA (MicroPython >= 1.23 `ssl`)."""
    import ssl
    from binascii import a2b_base64

    body = "".join(line for line in ca_pem.split("\n") if line and not line.startswith("-----"))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.verify_mode = ssl.CERT_REQUIRED
    context.load_verify_locations(cadata=a2b_base64(body))
    return context


def provisioning_address():
    """Open the set-up access point and return where the provisioning endpoint listens."""
    if not _ap.active():
        _ap.active(True)
        _ap.config(essid="Hearth-" + unique_id()[-6:], authmode=network.AUTH_OPEN)
    return ("0.0.0.0", 80)


def mdns_start(instance, service, port, txt):
    global _mdns
    from hearthfw import mdns

    ip = _sta.ifconfig()[0] if _sta.isconnected() else _ap.ifconfig()[0]
    _mdns = mdns.Responder(instance, service, "hearth-" + unique_id() + ".local", ip, port, txt)
    _mdns.announce()


def mdns_update(txt):
    if _mdns is not None:
        _mdns.txt = txt
        _mdns.announce()


def mdns_poll():
    if _mdns is not None:
        _mdns.poll()


def mdns_stop():
    global _mdns
    if _mdns is not None:
        _mdns.close()
        _mdns = None


def arm_deadline(ms, callback):
    global _timer
    _timer = machine.Timer(0)
    _timer.init(mode=machine.Timer.ONE_SHOT, period=ms, callback=lambda t: callback())
    return _timer


def cancel_deadline(handle):
    if handle is not None:
        handle.deinit()


def read_input(name):
    pin = PINS.get(name)
    if pin is None:
        return None
    value = machine.Pin(pin, machine.Pin.IN, machine.Pin.PULL_UP).value()
    # The door reed switch opens with the door; the button pulls its pin low when held.
    return value == 1 if name == "door" else value == 0


def set_input(name, value):
    raise OSError("inputs are wired on a real board")


def reset():
    machine.reset()


def log(*args):
    print(*args)
