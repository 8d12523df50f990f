"""Sub-commands of ``bosh-bundle``: one module each, discovered by ``bundler.clitools``."""
