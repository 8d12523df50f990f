"""bundler.core.deb: Debian formats both sides read.

``deb822`` (the one stanza reader and relation parser), ``control`` (the control stanza of a
``.deb`` file), ``stages`` (the one algorithm cutting an install order into ``dpkg -i`` calls).
Standard library and ``bundler.core`` only: the offline installer imports these.
"""
