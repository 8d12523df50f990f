"""AWS for the installer: the API checks, environment preparation and teardown, with boto3.

``checks.preflight(site, lock) -> list[Check]`` checks every AWS resource the site file names against
what the two deployments need (``checks_network``, ``checks_machines``; what the site file alone
decides is ``installer.site.rules``' and only reported here); ``prepare``/``teardown`` create and
remove the resources the guide has the operator click together, tagged with the site's name
(``owned``).  ``session`` builds boto3 clients from the site file without ever logging credentials.
Only the offline side imports this package; it imports ``bundler.core``, ``installer.site`` and
``installer.redact``.
"""
