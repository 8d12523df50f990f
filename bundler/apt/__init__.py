"""bundler.apt: reading apt repositories (connected side).

``gpg`` (gpgv verification), ``release`` (the Release file and its trust), ``index`` (a parsed
Packages/Sources index), ``client`` (``AptClient``: the signed chain through ``Http`` and the cache),
``system`` (this machine's apt sources).  May import ``bundler.core``, ``bundler.net`` and the spec.
"""
