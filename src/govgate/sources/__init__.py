"""Sources resolve a reference in the configuration to bytes (files, URLs, databases)."""
