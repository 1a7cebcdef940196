"""MQTT: Home Assistant discovery, embedded broker, state stream, Wi-Fi pairing."""
