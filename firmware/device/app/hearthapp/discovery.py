"""Home Assistant MQTT discovery payloads (abbreviated keys, `~` base topic)."""

import json

PREFIX = "homeassistant"


def base_topic(device_id):
    return "hearth/" + device_id


def device_block(device_id, profile, version):
    return {
        "ids": [device_id],
        "name": profile.NAME,
        "mf": "Hearth",
        "mdl": profile.MODEL,
        "sw": version,
    }


def configs(device_id, profile, version):
    """Return [(topic, payload bytes)] for every entity the profile exposes."""
    base = base_topic(device_id)
    dev = device_block(device_id, profile, version)
    out = []
    for component, object_id, name, extra in profile.entities():
        payload = {
            "~": base,
            "name": name,
            "uniq_id": device_id + "_" + object_id,
            "obj_id": profile.PROFILE + "_" + object_id,
            "avty_t": "~/availability",
            "dev": dev,
        }
        for key in extra:
            payload[key] = extra[key]
        topic = f"{PREFIX}/{component}/{device_id}/{object_id}/config"
        out.append((topic, json.dumps(payload).encode()))
    return out


def sensor(key, **extra):
    """A read-only value from the state JSON (helper used by the profiles)."""
    out = {"stat_t": "~/state", "val_tpl": f"{{{{ value_json.{key} }}}}"}
    for name in extra:
        out[name] = extra[name]
    return out


def command(key, **extra):
    """A value read from the state JSON and set through ~/set/<key>."""
    out = sensor(key, **extra)
    out["cmd_t"] = "~/set/" + key
    return out
