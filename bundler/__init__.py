"""bosh-bundle: resolve, lock, download and pack everything an offline BOSH install needs."""
