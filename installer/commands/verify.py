"""``bosh-install verify DIR``: check a bundle on the offline side (the same command as ``bosh-bundle verify``)."""

from bundler.core.verify_command import register

__all__ = ["register"]
