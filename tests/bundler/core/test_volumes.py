"""Volume sizes: what ``--volume-size`` accepts, and 4g fitting FAT32."""

from __future__ import annotations

import pytest

from bundler.core.errors import InputError
from bundler.core.volumes import FAT32_MAX, parse_size


def test_volume_sizes_parse_and_4g_fits_fat32():
    assert parse_size("700m") == 700 * 1024**2
    assert parse_size("512K") == 512 * 1024
    assert parse_size("4g") == FAT32_MAX
    assert parse_size("1000000") == 1_000_000
    for bad in ("4x", "", "1k"):
        with pytest.raises(InputError):
            parse_size(bad)
