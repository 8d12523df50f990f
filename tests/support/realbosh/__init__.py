"""The real upstream BOSH tools in the tests: bosh-init 0.0.81 and the bosh CLI v7.9.13, built from
the sources in ``../shared/upstream`` (``tools``); real release tarballs made by the real
``bosh create-release`` from the release directories under ``releases/`` and bosh-cli's own
sample release (``releases``); an offline test CPI (``releases/test-cpi``, driven by ``testcpi``);
running the real tools under ``unshare --net`` (``run``); the project's own MicroBOSH manifest with
real artifacts in it (``manifest``); and our validator seen as the real one is (``validator_adapter``).

Test support only: it drives the project through its command lines, never its internal modules
(except ``validator_adapter``, which names the one function it compares).
"""
