"""Resolving BOSH releases and stemcells through bosh.io into lock entries (connected side; the
tarballs' reading and checking is ``bundler.core.bosh``)."""
