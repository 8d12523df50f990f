"""Where the tests find the repository's own files: its root, the stand-ins, the test data."""

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
STANDINS = REPO / "tests" / "support" / "standins"
DATA = REPO / "tests" / "data"
