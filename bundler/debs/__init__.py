"""bundler.debs."""
