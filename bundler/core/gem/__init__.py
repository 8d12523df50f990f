"""Ruby gems as the bundle holds them: RubyGems' version rules (``version``) and a ``.gem``'s own
metadata and its check against the lock (``metadata``).  Imports only ``bundler.core``."""
