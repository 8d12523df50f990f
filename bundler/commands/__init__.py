"""Sub-commands of ``bosh-bundle``: one module each, listed in the CLI's ``main``."""
