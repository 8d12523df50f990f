"""Run the bundler CLI as ``python -m bundler``."""

from bundler.cli import main

raise SystemExit(main())
