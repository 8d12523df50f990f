"""AWS for the installer: read-only checks, environment preparation and teardown, with boto3.

``checks.preflight(site, lock) -> list[Check]`` checks every AWS resource the site file names against
what the two deployments need; ``prepare``/``teardown`` create and remove the resources the guide has
the operator click together, tagged with the site's name.  ``session`` builds boto3 clients from the
site file without ever logging credentials.  Only the offline side imports this package.
"""
