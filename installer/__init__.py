"""bosh-install: verify a bundle and install BOSH from it on a host with no network."""
