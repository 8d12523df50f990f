"""Sub-commands of ``bosh-install``: one module each, listed in the CLI's ``main``."""
