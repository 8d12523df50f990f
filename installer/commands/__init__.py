"""Sub-commands of ``bosh-install``: one module each, discovered by ``bundler.clitools``."""
