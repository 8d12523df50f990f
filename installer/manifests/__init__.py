"""The two deployment manifests: rendered from the site (``render``) with generated secrets
(``secrets``), checked by the rules of the tools that read them (``boshinit``, ``director``) and
together with the site's (``check``).  Imports ``bundler.core`` and ``installer.site``."""
