"""``bosh-install verify DIR``: check a bundle on the offline side (same code as ``bosh-bundle verify``)."""

from bundler.commands.verify import add_verify_parser as register

__all__ = ["register"]
