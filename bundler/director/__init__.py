"""``bosh create-env`` from bosh-deployment, on the connected side: the repository's source tarball
(``source``), the manifest interpolated by the real bosh CLI (``interpolate``), and the lock part that
carries bosh-deployment, every release and stemcell it names and the ``director`` section
(``resolve``).
"""
