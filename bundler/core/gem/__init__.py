"""bundler.core.gem."""
