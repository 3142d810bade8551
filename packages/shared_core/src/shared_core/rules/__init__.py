"""Pure decision logic: no I/O, no clock, no database. Time, holidays and thresholds are arguments."""
