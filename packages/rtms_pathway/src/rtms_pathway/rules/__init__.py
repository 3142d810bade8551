"""Pure rTMS pathway rules: no I/O, no clock; thresholds and dates come in as arguments."""
