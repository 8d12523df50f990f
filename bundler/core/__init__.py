"""bundler.core."""
