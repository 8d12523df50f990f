"""BOSH release and stemcell tarballs, read in one streaming pass and checked (both sides use it).

``stream`` (the reader and inflater threads) -> ``tarball`` (the tar walk: ``TarballScan``) ->
``release`` / ``stemcell`` (each manifest as a type, its reader and its validator; ``manifest``
reads their YAML as bosh does) -> ``check`` (a tarball against its lock entry).  Imports only
``bundler.core``.
"""
