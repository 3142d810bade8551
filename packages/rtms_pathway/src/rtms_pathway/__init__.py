"""rtms_pathway."""
