"""Pure sport-referral rules: no I/O; reference data comes in as arguments."""
