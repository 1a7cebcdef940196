"""Robot cleaner profile: moving → cleaning → returning → docked over time, with a battery."""

import json

from hearthapp.discovery import command, sensor

# Seconds of cleaning per room and of travel between the dock and a room.
ROOMS = {"kitchen": 40, "living_room": 60, "bedroom": 45, "hallway": 20}
TRAVEL_S = 10
SPOT_S = 20
FAN_SPEEDS = ("quiet", "standard", "turbo")
LOW_BATTERY = 15.0
# What Home Assistant's vacuum (state schema) understands for each detailed status.
HA_STATE = {
    "docked": "docked",
    "moving": "cleaning",
    "cleaning": "cleaning",
    "returning": "returning",
    "paused": "paused",
    "idle": "idle",
    "error": "error",
}
DRAIN = {"moving": 0.2, "cleaning": 0.3, "returning": 0.15, "paused": 0.02, "idle": 0.02}


class Cleaner:
    PROFILE = "cleaner"
    NAME = "Robot cleaner"
    MODEL = "Hearth HC-1 reference robot cleaner"

    def __init__(self, settings, now_ms, read_input):
        speed = settings.get("fan_speed", "standard")
        self.fan_speed = speed if speed in FAN_SPEEDS else "standard"
        self.status = "docked"
        self.battery = 100.0
        self.room = None
        self.queue = []
        self.remaining = 0.0
        self.paused_status = None
        self.error = None
        self.locates = 0
        # The "clean room" select shows the room last asked for (a select needs a valid option).
        self.last_room = sorted(ROOMS)[0]
        self._last = now_ms / 1000

    def entities(self):
        return [
            ("vacuum", "vacuum", None, {
                "schema": "state",
                "stat_t": "~/state",
                "cmd_t": "~/set/command",
                "send_cmd_t": "~/set/send_command",
                "set_fan_spd_t": "~/set/fan_speed",
                "fanspd_lst": list(FAN_SPEEDS),
                "sup_feat": ["start", "pause", "stop", "return_home", "status", "locate",
                             "clean_spot", "fan_speed", "send_command"],
            }),
            ("sensor", "battery", "Battery",
             sensor("battery", dev_cla="battery", unit_of_meas="%", stat_cla="measurement")),
            ("sensor", "status", "Status", sensor("status")),
            ("sensor", "room", "Room", sensor("room")),
            ("select", "clean_room", "Clean room", command("target_room", ops=sorted(ROOMS))),
        ]  # fmt: skip

    def settings(self):
        return {"fan_speed": self.fan_speed}

    def state(self):
        return {
            "state": HA_STATE[self.status],
            "status": self.status,
            "fan_speed": self.fan_speed,
            "battery": int(self.battery),
            "battery_level": int(self.battery),
            "room": self.room or "dock",
            "target_room": self.last_room,
            "queue": list(self.queue),
            "error": self.error,
            "locates": self.locates,
        }

    def command(self, key, payload):
        """Apply ~/set/<key>; return True when settings changed. ValueError for bad input."""
        if key == "command":
            self._command(payload)
            return False
        if key == "send_command":
            self._send_command(payload)
            return False
        if key == "target_room":
            self._clean_rooms([payload])
            return False
        if key == "fan_speed":
            if payload not in FAN_SPEEDS:
                raise ValueError("unknown fan speed: " + payload)
            self.fan_speed = payload
            return True
        raise ValueError("unknown command: " + key)

    def tick(self, now_ms):
        """Advance the robot; return True when its status, room or whole battery % changed."""
        now = now_ms / 1000
        dt = max(0.0, min(now - self._last, 600.0))
        self._last = now
        before = (self.status, self.room, int(self.battery), len(self.queue))
        while dt > 0:
            dt = self._step(dt)
        return before != (self.status, self.room, int(self.battery), len(self.queue))

    def _step(self, dt):
        # Consume dt seconds of the current activity; return what is left for the next one.
        status = self.status
        if status == "docked":
            self.battery = min(100.0, self.battery + dt * 1.0)
            return 0
        self.battery = max(0.0, self.battery - dt * DRAIN.get(status, 0))
        if status in ("moving", "cleaning") and self.battery < LOW_BATTERY:
            self.error = "low battery"
            self._go_home()
            return dt
        if status in ("paused", "idle", "error"):
            return 0
        used = min(dt, self.remaining)
        self.remaining -= used
        if self.remaining > 0:
            return 0
        if status == "moving":
            self.status = "cleaning"
            self.remaining = ROOMS.get(self.room, SPOT_S)
        elif status == "cleaning":
            if self.queue:
                self.room = self.queue.pop(0)
                self.status = "moving"
                self.remaining = TRAVEL_S
            else:
                self._go_home()
        elif status == "returning":
            self.status = "docked"
            self.room = None
        return dt - used

    def _command(self, payload):
        if payload == "start":
            if self.status == "paused":
                self.status = self.paused_status or "moving"
                self.paused_status = None
            elif self.status in ("docked", "idle", "error"):
                self._clean_rooms(sorted(ROOMS))
        elif payload == "pause":
            if self.status in ("moving", "cleaning", "returning"):
                self.paused_status = self.status
                self.status = "paused"
        elif payload == "stop":
            if self.status != "docked":
                self.status = "idle"
                self.queue = []
        elif payload == "return_to_base":
            if self.status != "docked":
                self._go_home()
        elif payload == "clean_spot":
            self.queue = []
            self.room = self.room or "spot"
            self.status = "cleaning"
            self.remaining = SPOT_S
        elif payload == "locate":
            self.locates += 1
        else:
            raise ValueError("unknown vacuum command: " + payload)

    def _send_command(self, payload):
        # Home Assistant sends JSON {"command": ..., params...} or a bare command word.
        try:
            data = json.loads(payload)
        except ValueError:
            data = {"command": payload}
        if not isinstance(data, dict):
            raise ValueError("send_command payload must be an object")
        name = data.get("command")
        if name in ("clean_room", "clean_area"):
            rooms = data.get("rooms", data.get("room", data.get("area")))
            rooms = rooms if isinstance(rooms, list) else [rooms]
            self._clean_rooms([_room_key(room) for room in rooms])
        elif name in ("start", "pause", "stop", "return_to_base", "clean_spot", "locate"):
            self._command(name)
        else:
            raise ValueError(f"unknown command: {name!r}")

    def _clean_rooms(self, rooms):
        if not rooms or any(room not in ROOMS for room in rooms):
            raise ValueError(f"unknown room in {rooms!r}")
        if self.battery < LOW_BATTERY:
            raise ValueError("battery too low to start")
        self.error = None
        self.paused_status = None
        self.last_room = rooms[-1]
        self.room = rooms[0]
        self.queue = list(rooms[1:])
        self.status = "moving"
        self.remaining = TRAVEL_S

    def _go_home(self):
        self.queue = []
        self.status = "returning"
        self.remaining = TRAVEL_S


def _room_key(name):
    # Hubs say "Living room" or "living-room"; the map knows living_room.
    if not isinstance(name, str):
        return name
    return name.strip().lower().replace(" ", "_").replace("-", "_")
