"""Validation of the sealed hand-over and of the credentials inside it."""

from binascii import unhexlify

_HEX = "0123456789abcdef"
MAX_CA_PEM = 4096


def parse_envelope(body):
    """The sealed envelope {"v", "hub_key", "nonce", "sealed"} as bytes; ValueError otherwise.

    Plain-text credentials are refused: they would cross the open set-up network readable.
    """
    data = _json_object(body)
    if "sealed" not in data:
        raise ValueError("provisioning must be sealed with the setup code (see firmware/README)")
    if data.get("v") != 1:
        raise ValueError("unsupported provisioning version")
    out = {}
    for key, size in (("hub_key", 32), ("nonce", 12), ("sealed", 0)):
        value = data.get(key)
        if not isinstance(value, str) or len(value) % 2 or any(c not in _HEX for c in value):
            raise ValueError(key + " must be lowercase hex")
        raw = unhexlify(value)
        if size and len(raw) != size:
            raise ValueError(key + " has the wrong length")
        out[key] = raw
    if len(out["sealed"]) < 16:
        raise ValueError("sealed is too short")
    return out


def parse(body):
    """Decode and validate the opened credentials; ValueError with the reason otherwise."""
    data = _json_object(body)
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
    # The hub's CA (PEM) when the broker port is its TLS listener; None for plain loopback.
    ca = data.get("broker_ca")
    if ca is not None and (
        not isinstance(ca, str) or len(ca) > MAX_CA_PEM or "CERTIFICATE" not in ca
    ):
        raise ValueError("broker_ca must be a PEM certificate")
    out["broker_ca"] = ca
    return out


def is_complete(config):
    """A stored configuration is usable (it survived a reset mid-write, or was never written)."""
    try:
        parse(_dumps(config))
        return True
    except (ValueError, TypeError):
        return False


def _json_object(body):
    import json

    try:
        data = json.loads(body)
    except (ValueError, UnicodeError):
        raise ValueError("body is not JSON") from None
    if not isinstance(data, dict):
        raise ValueError("body is not a JSON object")
    return data


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
