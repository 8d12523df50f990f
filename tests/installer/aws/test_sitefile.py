"""Writing ids back into a site file keeps comments, order and mode."""

from __future__ import annotations

import pytest

from bundler.core.errors import InputError
from installer.aws.sitefile import set_values

SITE = """\
# my site
name: bosh
aws:
  region: us-east-1   # N. Virginia
  secret_access_key: abcdefgh
network:
  subnet_id:          # filled in by prepare
  cidr: 10.0.0.0/24
  dns: [10.0.0.2]
microbosh:
  static_ip: 10.0.0.6
"""


def test_values_are_replaced_in_place_with_comments_kept(tmp_path):
    path = tmp_path / "site.yml"
    path.write_text(SITE)
    path.chmod(0o640)
    changed = set_values(
        path,
        {"network.subnet_id": "subnet-0abc", "network.vpc_id": "vpc-1", "microbosh.elastic_ip": "54.1.2.3"},
    )
    assert changed
    text = path.read_text()
    assert "  subnet_id: subnet-0abc          # filled in by prepare\n" in text
    assert "network:\n  vpc_id: vpc-1\n  subnet_id" in text
    assert text.endswith("microbosh:\n  elastic_ip: 54.1.2.3\n  static_ip: 10.0.0.6\n")
    assert text.startswith("# my site\nname: bosh\naws:\n  region: us-east-1   # N. Virginia\n")
    # the file holds a secret key: group read is dropped
    assert path.stat().st_mode & 0o777 == 0o600


def test_nothing_to_change_leaves_the_file_alone(tmp_path):
    path = tmp_path / "site.yml"
    path.write_text(SITE)
    before = path.stat().st_mtime_ns
    assert not set_values(path, {"aws.region": "us-east-1"})
    assert path.stat().st_mtime_ns == before


def test_emptying_a_value(tmp_path):
    path = tmp_path / "site.yml"
    path.write_text(SITE.replace("subnet_id:          #", "subnet_id: subnet-9 #"))
    set_values(path, {"network.subnet_id": None})
    assert "\n  subnet_id: # filled in by prepare\n" in path.read_text()


def test_a_list_value_is_refused(tmp_path):
    path = tmp_path / "site.yml"
    path.write_text(SITE)
    with pytest.raises(InputError, match="network.dns"):
        set_values(path, {"network.dns": "10.0.0.3"})
