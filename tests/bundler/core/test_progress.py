"""Progress bars: one per phase, labelled, MB throughout, n/N files; silent off a terminal and with --quiet."""

from __future__ import annotations

import io

from bundler import cli
from bundler.core.progress import NULL_BAR, TermProgress
from bundler.net.download import download_to_cache
from bundler.net.http import Http
from tests.support.httpserver import LoopbackServer
from tests.support.synthetic import artifact, file_url, make_files, write_test_lock


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_bar_names_its_phase_counts_files_and_speaks_mb_only():
    out = _Tty()
    with TermProgress(stream=out, force=True).bar("pack", 3_000_000, files=3) as bar:
        for _ in range(3):
            bar.advance(1_000_000)
            bar.file_done()
        bar.note("a line above the bar")
    text = out.getvalue()
    last = text.replace("\r", "\n").strip().splitlines()[-1]
    assert last.startswith("pack") and "3/3 files" in last and "3.0/3.0 MB" in last, last
    assert "a line above the bar" in text
    assert "kB" not in text and "GB" not in text and "MiB" not in text


def test_no_bar_when_quiet_or_not_on_a_terminal():
    assert TermProgress(quiet=True, stream=_Tty()).bar("verify", 10) is NULL_BAR
    assert TermProgress(stream=io.StringIO()).bar("verify", 10) is NULL_BAR  # stderr is not a terminal


def test_off_a_terminal_build_and_verify_print_only_their_summary(tmp_path, capsys):
    files = make_files(tmp_path / "src", {"alpha": 200_000, "beta": 50_000})
    lock = tmp_path / "bundle.lock"
    write_test_lock(lock, [artifact(n, d, file_url(tmp_path / "src" / n)) for n, d in files.items()])
    out = tmp_path / "b"
    assert cli.main(["build", "--lock", str(lock), "--out", str(out), "--cache", str(tmp_path / "c")]) == 0
    assert cli.main(["verify", str(out)]) == 0
    assert cli.main(["verify", str(out), "--quiet"]) == 0
    got = capsys.readouterr()
    assert got.err == ""
    lines = got.out.splitlines()
    assert len(lines) == 3 and lines[0].startswith(f"{out}: 2 artifacts") and lines[1] == lines[2], lines
    assert lines[1].startswith(f"{out}: OK")


def test_a_lock_time_download_shows_its_bar_with_bytes_and_rate(tmp_path):
    out = _Tty()
    with LoopbackServer(routes={"/bosh-init": b"x" * 300_000}) as srv:
        got = download_to_cache(
            Http(retries=0), srv.url("/bosh-init"), tmp_path / "cache", what="binary bosh-init 0.0.81",
            progress=TermProgress(stream=out, force=True),
        )  # fmt: skip
    assert got.size == 300_000
    text = out.getvalue().replace("\r", "\n")
    assert "binary bosh-init 0.0.81: reading it once to learn its checksums" in text
    last = [line for line in text.splitlines() if line.startswith("download")][-1]
    assert "1/1 files" in last and "0.3 MB" in last and "MB/s" in last, last
