"""Application entry: provisioning mode until configured, then Wi-Fi, broker, main loop."""

from binascii import hexlify

from hearthfw import fs, hal, httpd, provisioning, seal

from hearthapp.cleaner import Cleaner
from hearthapp.fridge import Fridge
from hearthapp.node import Node
from hearthapp.version import VERSION

SERVICE = "_hearth-device._tcp"
PROFILES = {"fridge": Fridge, "cleaner": Cleaner}
LOOP_MS = 20
MAX_BACKOFF_MS = 30000
# Wrong setup codes allowed before provisioning locks for LOCKOUT_MS (a 6-digit code is short).
MAX_CODE_FAILURES = 5
LOCKOUT_MS = 60000


def run(boot):
    """Called by the bootloader with {"slot", "trial"}; returns only by raising."""
    Device(boot).run()


class Device:
    def __init__(self, boot):
        self.boot = boot
        self.id = hal.unique_id()
        ident = fs.read_json(_path("device.json"), {})
        if hal.read_input("factory_reset"):
            _factory_reset()
        cls = PROFILES.get(ident.get("profile"), Fridge)
        # Printed on the appliance's label; whoever provisions it must know it.
        code = ident.get("setup_code")
        self.setup_code = code if isinstance(code, str) and code else None
        self._code_failures = 0
        self._locked_until = None
        # A fresh key pair per boot for the sealed hand-over (provisioning.parse_sealed).
        self._pair_private = None
        self.pairing_key = None
        settings = fs.read_json(_path("settings.json"), {})
        self.profile = cls(
            settings if isinstance(settings, dict) else {}, hal.sim_ms(), hal.read_input
        )
        config = fs.read_json(_path("config.json"))
        self.config = config if provisioning.is_complete(config) else None
        if self.config is None:
            self._pair_private = hal.random_bytes(32)
            self.pairing_key = seal.public_key(self._pair_private)
        self.node = None
        self.error = None
        self._retry_at = 0
        self._backoff = 1000
        host, port = hal.provisioning_address()
        self.http = httpd.Server(host, port, self.handle_http)
        hal.mdns_start(f"{self.profile.PROFILE}-{self.id}", SERVICE, self.http.port, self.txt())
        hal.log("app: version", VERSION, "profile", self.profile.PROFILE, "port", self.http.port)

    def txt(self):
        return {
            "id": self.id,
            "model": self.profile.MODEL,
            "profile": self.profile.PROFILE,
            "fw": VERSION,
            "state": "provisioned" if self.config else "unprovisioned",
            "pop": "1",
        }

    def info(self):
        return {
            "id": self.id,
            "model": self.profile.MODEL,
            "profile": self.profile.PROFILE,
            "firmware_version": VERSION,
            "state": "provisioned" if self.config else "unprovisioned",
            "online": self.node is not None,
            "error": self.error,
            "setup_code_required": True,
            "scheme": seal.SCHEME,
            "pairing_key": hexlify(self.pairing_key).decode() if self.pairing_key else None,
        }

    def handle_http(self, method, path, body):
        if path == "/info":
            return (200, self.info()) if method == "GET" else (405, {"error": "GET only"})
        if path != "/provision":
            return 404, {"error": "not found"}
        if method != "POST":
            return 405, {"error": "POST only"}
        if self.config is not None:
            return 409, {"error": "already provisioned"}
        if self.setup_code is None:
            # No code on the label, nothing to seal with: refuse rather than take plain text.
            return 403, {"error": "this device has no setup code and cannot be provisioned"}
        try:
            envelope = provisioning.parse_envelope(body)
        except ValueError as err:
            return 400, {"error": str(err)}
        locked = self._check_lockout()
        if locked is not None:
            return locked
        hub_key = envelope["hub_key"]
        try:
            shared = seal.x25519(self._pair_private, hub_key)
            key = seal.session_key(shared, self.setup_code, self.pairing_key, hub_key, self.id)
            aad = self.pairing_key + hub_key
            plain = seal.open_sealed(key, envelope["nonce"], envelope["sealed"], aad)
        except seal.SealError:
            return self._wrong_code()
        self._code_failures = 0
        try:
            config = provisioning.parse(plain)
        except ValueError as err:
            return 400, {"error": str(err)}
        # Try the credentials before accepting them, so the hub hears what was wrong.
        try:
            self._bring_up(config)
        except Exception as err:
            hal.log("provision: rejected:", repr(err))
            return 502, {"error": _reason(err)}
        self.config = config
        fs.write_json(_path("config.json"), config)
        hal.mdns_update(self.txt())
        answer = self.info()
        answer["proof"] = hexlify(seal.proof(key, hub_key)).decode()
        self._pair_private = None
        return 200, answer

    def _check_lockout(self):
        if self._locked_until is None:
            return None
        if hal.ticks_diff(self._locked_until, hal.ticks_ms()) > 0:
            return 429, {"error": "too many wrong setup codes; try again later"}
        self._locked_until = None
        self._code_failures = 0
        return None

    def _wrong_code(self):
        self._code_failures += 1
        if self._code_failures >= MAX_CODE_FAILURES:
            self._locked_until = hal.ticks_add(hal.ticks_ms(), LOCKOUT_MS)
        return 403, {"error": "wrong setup code (the hand-over did not open)"}

    def run(self):
        while True:
            self.http.poll()
            hal.mdns_poll()
            if self.node is not None:
                try:
                    self.node.loop_once()
                except Exception as err:
                    if not _is_network_error(err):
                        raise
                    hal.log("mqtt: connection lost:", repr(err))
                    self.node.close(graceful=False)
                    self.node = None
                    self._retry_at = hal.ticks_ms()
            elif self.config is not None and hal.ticks_diff(hal.ticks_ms(), self._retry_at) >= 0:
                try:
                    self._bring_up(self.config)
                    self._backoff = 1000
                except Exception as err:
                    if not _is_network_error(err):
                        raise
                    self.error = _reason(err)
                    hal.log("net: bring-up failed, retry in", self._backoff, "ms:", self.error)
                    self._retry_at = hal.ticks_add(hal.ticks_ms(), self._backoff)
                    self._backoff = min(self._backoff * 2, MAX_BACKOFF_MS)
            hal.sleep_ms(LOOP_MS)

    def _bring_up(self, config):
        hal.wlan_connect(config["wifi_ssid"], config["wifi_password"])
        node = Node(self.id, self.profile, config)
        try:
            node.connect()
        except Exception:
            node.close(graceful=False)
            raise
        self.node = node
        self.error = None


def _path(name):
    return fs.join(hal.root(), name)


def _factory_reset():
    # The reset button was held at power-up: forget credentials and settings, keep the firmware.
    hal.log("app: factory reset")
    for name in ("config.json", "settings.json"):
        fs.rmtree(_path(name))


def _is_network_error(err):
    return isinstance(err, (OSError, hal.MQTTError))


def _reason(err):
    if isinstance(err, hal.MQTTError):
        return "broker refused the connection (%s)" % (err.args[0] if err.args else "?")
    text = str(err) or repr(err)
    return text if text.startswith("wifi:") else "broker unreachable: " + text
