"""Wyoming voice satellites: the hub dials out to them, as in the Wyoming ecosystem."""
