"""Hearth reference appliance application (the part OTA updates replace)."""
