"""Built-in evaluators, each a plugin written exactly as a third-party one would be."""
