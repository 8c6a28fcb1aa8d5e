"""Loaders read inputs through sources, parse them and validate them against shipped schemas."""
