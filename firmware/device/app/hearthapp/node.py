"""The device's MQTT side: discovery, availability (LWT), state, commands, OTA requests."""

import json

from hearthfw import fs, hal, ota

from hearthapp import discovery
from hearthapp.version import VERSION

KEEPALIVE_S = 30
REPUBLISH_MS = 30000
MAX_PAYLOAD = 4096


class Node:
    def __init__(self, device_id, profile, config):
        self.device_id = device_id
        self.profile = profile
        self.config = config
        self.base = discovery.base_topic(device_id)
        self.client = None
        self.pending_ota = None
        self._dirty = True
        self._settings_dirty = False
        self._last_publish = 0
        self._last_ping = 0

    def connect(self):
        """Connect, announce, and confirm a trial image. Raises OSError or hal.MQTTError."""
        cfg = self.config
        ca = cfg.get("broker_ca")
        client = hal.MQTTClient(
            "hearth-" + self.device_id,
            cfg["broker_host"],
            port=cfg["broker_port"],
            user=cfg["broker_username"],
            password=cfg["broker_password"],
            keepalive=KEEPALIVE_S,
            # On the LAN the broker speaks TLS with the hub's CA, handed over at pairing.
            ssl=hal.tls_context(ca) if ca else None,
        )
        client.set_last_will(self.base + "/availability", b"offline", retain=True, qos=1)
        client.set_callback(self._on_message)
        client.connect()
        self.client = client
        for topic in ("/set/+", "/ota/start") + (("/sim/+",) if hal.SIMULATED else ()):
            client.subscribe(self.base + topic, 1)
        client.subscribe("homeassistant/status", 1)
        self.announce()
        self.publish(self.base + "/availability", "online", retain=True)
        self.publish_state()
        # Connected and state published: this image works, so a trial boot becomes permanent.
        ota.confirm()
        result = ota.pop_result()
        if result is not None:
            self.publish(self.base + "/ota/status", json.dumps(result), retain=True)

    def announce(self):
        for topic, payload in discovery.configs(self.device_id, self.profile, VERSION):
            self.publish(topic, payload, retain=True)

    def publish(self, topic, payload, retain=False):
        self.client.publish(topic.encode(), payload, retain=retain, qos=1)

    def publish_state(self):
        state = self.profile.state()
        state["firmware_version"] = VERSION
        self.publish(self.base + "/state", json.dumps(state), retain=True)
        self._last_publish = hal.ticks_ms()
        self._dirty = False

    def loop_once(self):
        """One pass of the main loop; OSError/MQTTError means the connection is gone."""
        self.client.check_msg()
        if self.profile.tick(hal.sim_ms()):
            self._dirty = True
        now = hal.ticks_ms()
        if self._settings_dirty:
            fs.write_json(fs.join(hal.root(), "settings.json"), self.profile.settings())
            self._settings_dirty = False
        if self._dirty or hal.ticks_diff(now, self._last_publish) > REPUBLISH_MS:
            self.publish_state()
        if hal.ticks_diff(now, self._last_ping) > KEEPALIVE_S * 500:
            self.client.ping()
            self._last_ping = now
        if self.pending_ota is not None:
            request, self.pending_ota = self.pending_ota, None
            self._update(request)

    def close(self, graceful):
        if self.client is None:
            return
        try:
            if graceful:
                self.publish(self.base + "/availability", "offline", retain=True)
            self.client.disconnect()
        except Exception as err:
            hal.log("mqtt: close failed:", repr(err))
        self.client = None

    def _on_message(self, topic, msg):
        try:
            topic = topic.decode()
            if len(msg) > MAX_PAYLOAD:
                raise ValueError("payload too large")
            payload = msg.decode()
            self._dispatch(topic, payload)
        except (ValueError, UnicodeError, KeyError, TypeError) as err:
            # Bad input from the network is logged and dropped, never fatal.
            hal.log("mqtt: ignored", repr(topic), repr(err))

    def _dispatch(self, topic, payload):
        if topic == "homeassistant/status":
            if payload == "online":
                # A (re)started consumer may have missed retained messages: say it all again.
                self.announce()
                self.publish(self.base + "/availability", "online", retain=True)
                self._dirty = True
            return
        key = topic[len(self.base) + 1 :]
        if key.startswith("set/"):
            if self.profile.command(key[4:], payload.strip()):
                self._settings_dirty = True
            self._dirty = True
        elif key.startswith("sim/"):
            hal.set_input(key[4:], json.loads(payload))
        elif key == "ota/start":
            request = json.loads(payload)
            if not isinstance(request, dict) or not isinstance(request.get("url"), str):
                raise ValueError("OTA request needs a url")
            self.pending_ota = request

    def _update(self, request):
        update_id = request.get("update")
        size = request.get("size") if isinstance(request.get("size"), int) else 0

        def progress(stage, percent):
            self._status({"stage": stage, "progress": percent, "update": update_id})

        progress("starting", 0)
        try:
            header = ota.install(
                request["url"],
                self.config["ota_public_key"],
                self.profile.PROFILE,
                size,
                update_id,
                progress,
            )
        except Exception as err:
            hal.log("ota: update failed:", repr(err))
            self._status({"stage": "failed", "error": str(err), "update": update_id})
            return
        self._status({"stage": "rebooting", "version": header["version"], "update": update_id})
        self.close(graceful=True)
        hal.reset()

    def _status(self, status):
        status["running"] = VERSION
        self.publish(self.base + "/ota/status", json.dumps(status), retain=True)
