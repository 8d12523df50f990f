"""bundler.apt."""
