"""bundler.core.deb."""
