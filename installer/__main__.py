"""Run the installer CLI as ``python -m installer``."""

from installer.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
