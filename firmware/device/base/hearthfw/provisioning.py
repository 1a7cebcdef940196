"""Validation of the credentials the hub hands over during provisioning."""

_HEX = "0123456789abcdef"


def parse(body):
    """Decode and validate a provisioning request body; ValueError with the reason otherwise."""
    import json

    try:
        data = json.loads(body)
    except (ValueError, UnicodeError):
        raise ValueError("body is not JSON") from None
    if not isinstance(data, dict):
        raise ValueError("body is not a JSON object")
    out = {}
    out["wifi_ssid"] = _text(data, "wifi_ssid", 1, 32, False)
    out["wifi_password"] = _text(data, "wifi_password", 0, 63, False)
    out["broker_host"] = _text(data, "broker_host", 1, 253, False)
    port = data.get("broker_port")
    if not isinstance(port, int) or isinstance(port, bool) or not 0 < port < 65536:
        raise ValueError("broker_port must be 1-65535")
    out["broker_port"] = port
    out["broker_username"] = _text(data, "broker_username", 1, 128, True)
    out["broker_password"] = _text(data, "broker_password", 0, 256, True)
    key = data.get("ota_public_key")
    if not isinstance(key, str) or len(key) != 64 or any(c not in _HEX for c in key):
        raise ValueError("ota_public_key must be 32 bytes as lowercase hex")
    out["ota_public_key"] = key
    out["setup_code"] = _text(data, "setup_code", 1, 32, True)
    return out


def is_complete(config):
    """A stored configuration is usable (it survived a reset mid-write, or was never written)."""
    try:
        parse(_dumps(config))
        return True
    except (ValueError, TypeError):
        return False


def _dumps(config):
    import json

    return json.dumps(config)


def _text(data, key, low, high, optional):
    value = data.get(key)
    if value is None and optional:
        return None
    if not isinstance(value, str) or not low <= len(value.encode()) <= high:
        raise ValueError(f"{key} must be text of {low}-{high} bytes")
    return value
