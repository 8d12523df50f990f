"""Resolving Ruby gems (connected side): the compact index client (``compactindex``), the resolvelib
provider (``provider``) and the lock entries (``resolve``).  Imports ``bundler.core``, ``bundler.net``
and resolvelib."""
