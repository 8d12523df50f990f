"""Reading the bosh v1 CLI's output: its tables (with continuation rows) and its task numbers."""

from installer.deploy.boshcli import parse_table, task_number, versions_in


def test_v1_tables_are_read_with_continuation_rows():
    releases = """\
+--------------+----------+-------------+
| Name         | Versions | Commit Hash |
+--------------+----------+-------------+
| bosh         | 232      | 1a2b3c4d+   |
|              | 233*     | 5e6f7a8b    |
| bosh-aws-cpi | 36       | 9c0d1e2f    |
+--------------+----------+-------------+
(*) Currently deployed
"""
    rows = parse_table(releases)
    assert versions_in(rows, "bosh") == {"232", "233"}
    assert versions_in(rows, "bosh-aws-cpi") == {"36"}
    stemcells = """\
+-------------------------------------+---------------+---------+--------------+
| Name                                | OS            | Version | CID          |
+-------------------------------------+---------------+---------+--------------+
| bosh-aws-xen-ubuntu-trusty-go_agent | ubuntu-trusty | 3147*   | ami-0a1b2c3d |
+-------------------------------------+---------------+---------+--------------+
"""
    assert versions_in(parse_table(stemcells), "bosh-aws-xen-ubuntu-trusty-go_agent") == {"3147"}
    assert versions_in(parse_table("No stemcells"), "x") == set()
    assert task_number("Director task 7\n  Started deploying\n\nTask 7 error") == "7"
