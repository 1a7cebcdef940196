"""Hardware layer: the real board under MicroPython, sockets/paho/zeroconf shims under CPython.

Both implementations export the same names: NAME, SIMULATED, root, unique_id, ticks_ms,
ticks_diff, ticks_add, sleep_ms, sim_ms, wlan_connect, wlan_disconnect, provisioning_address, MQTTClient,
mdns_start, mdns_update, mdns_poll, mdns_stop, arm_deadline, cancel_deadline, read_input,
set_input, reset, log.
"""

import sys

if sys.implementation.name == "micropython":
    from hearthfw.hal.board import *  # noqa: F403
else:
    from hearthfw.hal.host import *  # noqa: F403
