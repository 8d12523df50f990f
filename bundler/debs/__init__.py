"""bundler.debs: the deb closure resolver (connected side).

``universe`` (candidates, versions, the base), ``marking`` (apt's MarkInstall), ``order`` (the dpkg
install order), ``resolve`` (requests, the lock part, the entry point ``resolve(spec, ctx)``).  May
import ``bundler.apt``, ``bundler.core``, the spec and python-debian.
"""
