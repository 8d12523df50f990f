"""``bosh-bundle verify DIR``: check a bundle (the same command as ``bosh-install verify``).

Imports only ``bundler.core.verify_command``.
"""

from bundler.core.verify_command import register

__all__ = ["register"]
