"""AWS for the installer: preflight checks, environment preparation and teardown, with boto3.

``preflight(site, lock) -> list[Check]`` (read-only) checks every AWS resource the site file names
against what the two deployments need; ``prepare``/``teardown`` create and remove the resources the
guide has the operator click together, tagged with the site's name.  ``session`` builds boto3
clients from the site file without ever logging credentials.
"""

from installer.aws.preflight import Check, preflight

__all__ = ["Check", "preflight"]
