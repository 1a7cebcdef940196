"""The firmware's pure parts executed by real MicroPython, not just compiled by mpy-cross."""

from __future__ import annotations

import contextlib
import io
import json
import math
import os
from pathlib import Path
from typing import Any

import pytest

from firmware.ota.image import build_image
from firmware.ota.keys import SigningKey, load_or_create_signing_key

from . import micropython
from .conftest import APP_DIR, DEVICE_DIR

BASE_DIR = DEVICE_DIR / "base"


@pytest.fixture(scope="module")
def mp_entry() -> Path:
    found = micropython.ensure_micropython()
    if isinstance(found, str):
        pytest.skip(found)
    return found


def test_crypto_under_micropython(mp_entry: Path, signing_key: SigningKey, tmp_path: Path) -> None:
    import hashlib

    messages = [b"", b"abc", os.urandom(111), os.urandom(112), os.urandom(300)]
    stranger = load_or_create_signing_key(tmp_path / "stranger")
    message = b"hearth firmware 1.2.3"
    cases = [
        (signing_key.public_raw, signing_key.sign(message), message, True),
        (signing_key.public_raw, signing_key.sign(message), message + b"!", False),
        (signing_key.public_raw, stranger.sign(message), message, False),
        (stranger.public_raw, stranger.sign(b""), b"", True),
    ]
    body = f"""
import json
from hearthfw import ed25519, sha512
out = {{"fallback": ed25519._sha512 is sha512.sha512}}
out["sha"] = [sha512.sha512(m).hexdigest() for m in {messages!r}]
verdicts = []
for pub, sig, msg in {[(p, s, m) for p, s, m, _ in cases]!r}:
    try:
        ed25519.verify(pub, sig, msg)
        verdicts.append(True)
    except ed25519.BadSignature:
        verdicts.append(False)
out["verify"] = verdicts
print({micropython.RESULT_MARK!r} + json.dumps(out))
"""
    script = micropython.bundle(micropython.sources(BASE_DIR, "hearthfw"), body)
    result = micropython.run(mp_entry, script, tmp_path)
    assert result["fallback"] is True  # MicroPython's hashlib has no sha512: ours is used
    assert result["sha"] == [hashlib.sha512(m).hexdigest() for m in messages]
    assert result["verify"] == [expected for *_, expected in cases]


FAKE_MACHINE = """
class Reset(BaseException):
    pass


class Halt(BaseException):
    pass


LOG = []
TIMERS = []


def reset():
    raise Reset()


def unique_id():
    return b"\\x0a\\x0b\\x0c"


class Timer:
    ONE_SHOT = 0

    def __init__(self, n):
        self.cb = None

    def init(self, mode=0, period=0, callback=None):
        self.cb = callback
        TIMERS.append(self)

    def deinit(self):
        if self in TIMERS:
            TIMERS.remove(self)


def fire_timers():
    for t in list(TIMERS):
        TIMERS.remove(t)
        t.cb(t)


class Pin:
    IN = 0
    PULL_UP = 1

    def __init__(self, *args):
        pass

    def value(self):
        return 0
"""

FAKE_NETWORK = """
STA_IF = 0
AP_IF = 1
STAT_WRONG_PASSWORD = 202
STAT_NO_AP_FOUND = 201
AUTH_OPEN = 0


class WLAN:
    def __init__(self, interface):
        pass

    def active(self, *args):
        return False

    def isconnected(self):
        return False
"""

FAKE_UMQTT = "class MQTTException(Exception):\n    pass\n\n\nclass MQTTClient:\n    pass\n"

GOOD_MAIN = """import machine
from hearthfw import ota
from hearthapp.version import VERSION


def run(boot):
    ota.confirm()
    machine.LOG.append(["ran", VERSION, boot["slot"], boot["trial"]])
    raise machine.Halt()
"""
CRASH_MAIN = 'def run(boot):\n    raise RuntimeError("boom")\n'
SILENT_MAIN = """import machine


def run(boot):
    machine.LOG.append(["silent", boot["slot"]])
    machine.fire_timers()  # the trial deadline passes while this image never reports in
    raise machine.Halt()
"""


def _app(main: str, version: str) -> dict[str, bytes]:
    return {
        "hearthapp/__init__.py": b"",
        "hearthapp/version.py": f'VERSION = "{version}"\n'.encode(),
        "hearthapp/main.py": main.encode(),
    }


def test_bootloader_and_ota_under_micropython(
    mp_entry: Path, signing_key: SigningKey, tmp_path: Path
) -> None:
    stranger = load_or_create_signing_key(tmp_path / "stranger")
    images = {
        "crash": build_image(_app(CRASH_MAIN, "2.0.0"), version="2.0.0", profile="*", key=signing_key),
        "silent": build_image(_app(SILENT_MAIN, "3.0.0"), version="3.0.0", profile="*", key=signing_key),
        "foreign": build_image(_app(GOOD_MAIN, "6.6.6"), version="6.6.6", profile="*", key=stranger),
        "misfit": build_image(_app(GOOD_MAIN, "4.0.0"), version="4.0.0", profile="cleaner", key=signing_key),
        "good": build_image(_app(GOOD_MAIN, "1.1.0"), version="1.1.0", profile="fridge", key=signing_key),
    }  # fmt: skip
    flipped = bytearray(images["good"])
    flipped[-5] ^= 0x40
    images["flipped"] = bytes(flipped)
    files = micropython.sources(BASE_DIR, "hearthfw")
    files["/lib/machine.py"] = FAKE_MACHINE
    files["/lib/network.py"] = FAKE_NETWORK
    files["/lib/umqtt/__init__.py"] = ""
    files["/lib/umqtt/simple.py"] = FAKE_UMQTT
    files.update({f"/factory/{k}": v.decode() for k, v in _app(GOOD_MAIN, "1.0.0").items()})
    body = f"""
import json
import machine
os.mkdir("/flash")
os.chdir("/flash")
from hearthfw import bootloader, image, ota
bootloader.CRASH_BACKOFF_MS = 0
IMAGES = {images!r}
KEY = {signing_key.public_hex!r}


def boot():
    for name in list(sys.modules):
        if name.startswith("hearthapp"):
            del sys.modules[name]
    while sys.path[0].startswith("slots"):
        sys.path.pop(0)
    try:
        bootloader.run("/factory")
    except machine.Reset:
        return "reset"
    except machine.Halt:
        return "halt"


def install(name):
    with open("staged.bin", "wb") as f:
        f.write(IMAGES[name])
    try:
        return ota.install_staged("staged.bin", KEY, "fridge", name, lambda s, p: None)["version"]
    except image.ImageError as err:
        return "refused: " + str(err)


steps = [boot()]
for name in ("crash", "silent"):
    steps += [install(name), boot(), boot(), ota.pop_result()]
for name in ("foreign", "flipped", "misfit"):
    steps.append(install(name))
steps += [install("good"), boot(), ota.pop_result(), boot()]
out = {{"steps": steps, "log": machine.LOG, "state": ota.load_state()}}
print({micropython.RESULT_MARK!r} + json.dumps(out))
"""
    result = micropython.run(mp_entry, micropython.bundle(files, body), tmp_path)
    steps = result["steps"]
    assert steps[0] == "halt"  # factory image installed into slot a and running
    # Crashing image: the trial boot crashes (reset), the next boot rolls back.
    assert steps[1:4] == ["2.0.0", "reset", "halt"]
    assert steps[4]["stage"] == "rolled_back" and steps[4]["version"] == "2.0.0"
    assert "boom" in steps[4]["error"] and steps[4]["running"] == "1.0.0"
    # Silent image: the deadline fires, then the previous slot boots again.
    assert steps[5:8] == ["3.0.0", "reset", "halt"]
    assert steps[8]["stage"] == "rolled_back" and "did not report in" in steps[8]["error"]
    assert steps[9].startswith("refused: bad signature")
    assert steps[10].startswith("refused: bad signature")
    assert steps[11] == "refused: image is for profile cleaner"
    assert steps[12:14] == ["1.1.0", "halt"]
    assert steps[14] == {"stage": "done", "version": "1.1.0", "update": "good"}
    assert steps[15] == "halt"
    ran = [entry for entry in result["log"] if entry[0] == "ran"]
    assert [r[1] for r in ran] == ["1.0.0", "1.0.0", "1.0.0", "1.1.0", "1.1.0"]
    assert ran[-2][3] is True and ran[-1][3] is False  # trial boot, then confirmed
    assert result["state"]["trial"] is False
    assert result["state"]["versions"][result["state"]["active"]] == "1.1.0"


SCENARIO = """
import json
from hearthapp import discovery
from hearthapp.cleaner import Cleaner
from hearthapp.fridge import Fridge

inputs = {}
robot = Cleaner({}, 0, inputs.get)
robot.command("send_command", '{"command": "clean_room", "rooms": ["hallway", "kitchen"]}')
fridge = Fridge({"mode": "eco"}, 0, inputs.get)
fridge.command("inventory", '{"add": "milk"}')
trace = []
last = None
for i in range(1, 400):
    t = i * 1000
    if i == 40:
        robot.command("command", "pause")
    if i == 70:
        robot.command("command", "start")
    if i == 100:
        inputs["door"] = True
    if i == 300:
        inputs["door"] = False
    changed = robot.tick(t)
    s = robot.state()
    if changed or s["status"] != last:
        trace.append(["robot", i, s["status"], s["battery"], s["room"]])
        last = s["status"]
    if fridge.tick(t) or i % 50 == 0:
        s = fridge.state()
        trace.append(["fridge", i, s["fridge_temperature"], s["freezer_temperature"],
                      s["door"], s["alerts"]])
topics = [t for t, _ in discovery.configs("dev1", robot, "1.0") + discovery.configs("dev1", fridge, "1.0")]
payloads = [json.loads(p) for _, p in discovery.configs("dev1", fridge, "1.0")]
print(MARK + json.dumps({"trace": trace, "topics": topics, "payloads": payloads}))
"""


def _close(a: Any, b: Any) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        return math.isclose(a, b, abs_tol=0.11)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_close(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_close(a[k], b[k]) for k in a)
    return bool(a == b)


def test_appliance_models_behave_the_same_under_micropython(mp_entry: Path, tmp_path: Path) -> None:
    body = f"MARK = {micropython.RESULT_MARK!r}\n" + SCENARIO
    files = micropython.sources(APP_DIR, "hearthapp")
    mp = micropython.run(mp_entry, micropython.bundle(files, body), tmp_path)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(body, "scenario", "exec"), {})  # the same scenario under CPython
    cpython = json.loads(out.getvalue().strip()[len(micropython.RESULT_MARK) :])
    statuses = [row[2] for row in cpython["trace"] if row[0] == "robot"]
    assert "paused" in statuses and statuses[-1] == "docked"
    assert any(row[0] == "fridge" and "door_open" in row[5] for row in cpython["trace"])
    assert mp["topics"] == cpython["topics"]
    assert mp["payloads"] == cpython["payloads"]
    assert _close(mp["trace"], cpython["trace"]), (mp["trace"][:5], cpython["trace"][:5])


def test_sealed_hand_over_under_micropython(mp_entry: Path, tmp_path: Path) -> None:
    """The device opens what the hub seals (cryptography), and proves it, under MicroPython."""
    from dataclasses import replace

    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

    from firmware.provision import Credentials, seal_credentials

    device_private = X25519PrivateKey.generate()
    raw_private = device_private.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    device_public = device_private.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    creds = Credentials("home", "pw-" + os.urandom(4).hex(), "192.0.2.1", 8883, "appliance-x",
                        os.urandom(16).hex(), "ab" * 32, "31415926", "-----BEGIN CERTIFICATE-----")  # fmt: skip
    body, key, hub_public = seal_credentials(creds, "31415926", device_public, "fridge7")
    wrong, _, _ = seal_credentials(replace(creds), "31415927", device_public, "fridge7")
    script_body = f"""
import json
from binascii import hexlify
from hearthfw import provisioning, seal
out = {{}}
priv = {raw_private!r}
pub = seal.public_key(priv)
out["pub"] = hexlify(pub).decode()
def attempt(body):
    env = provisioning.parse_envelope(json.dumps(body))
    shared = seal.x25519(priv, env["hub_key"])
    key = seal.session_key(shared, "31415926", pub, env["hub_key"], "fridge7")
    try:
        plain = seal.open_sealed(key, env["nonce"], env["sealed"], pub + env["hub_key"])
    except seal.SealError:
        return None, None
    return provisioning.parse(plain), hexlify(seal.proof(key, env["hub_key"])).decode()
out["right"], out["proof"] = attempt({body!r})
out["wrong"], _ = attempt({wrong!r})
try:
    provisioning.parse_envelope(json.dumps({{"wifi_ssid": "home"}}))
    out["plain"] = "accepted"
except ValueError as err:
    out["plain"] = str(err)
print({micropython.RESULT_MARK!r} + json.dumps(out))
"""
    script = micropython.bundle(micropython.sources(BASE_DIR, "hearthfw"), script_body)
    result = micropython.run(mp_entry, script, tmp_path)
    assert result["pub"] == device_public.hex()
    assert result["right"]["broker_password"] == creds.broker_password
    assert result["right"]["broker_ca"] == creds.broker_ca
    import hashlib
    import hmac

    expected = hmac.new(key, b"hearth provisioning accepted" + hub_public, hashlib.sha512)
    assert result["proof"] == expected.digest()[:16].hex()
    assert result["wrong"] is None
    assert "sealed" in result["plain"]
