"""Use cases of shared_core: load, apply rules, persist and audit in one transaction."""
