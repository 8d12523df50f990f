"""bundler.net."""
