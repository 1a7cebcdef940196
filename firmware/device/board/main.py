# Board entry point: hearthfw is frozen into the firmware (or in /lib); the factory
# application lives in /factory/hearthapp and is copied into slot a on first boot.
from hearthfw import bootloader

bootloader.run("/factory")
