"""bundler.core.bosh."""
