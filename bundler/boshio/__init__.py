"""bundler.boshio."""
