"""shared_core."""
