"""Deploying MicroBOSH and BOSH: ``driver`` (the ``Deployer``) runs the step lists of ``microbosh`` and
``bosh`` over ``prepared`` manifests, driving ``boshinit`` (bosh-init) and ``boshcli`` (the bosh v1 CLI)."""
