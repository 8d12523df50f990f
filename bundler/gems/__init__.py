"""bundler.gems."""
