"""Versioned reference data of the sport side, with loaders."""
