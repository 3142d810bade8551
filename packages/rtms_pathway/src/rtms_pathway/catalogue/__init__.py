"""Versioned reference data of the rTMS pathway (YAML) and their loaders."""
