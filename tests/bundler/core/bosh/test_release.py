"""A release's insides are validated against its release.MF and its jobs' job.MF, every problem at once."""

from bundler.core.bosh.check import check_artifact
from bundler.core.bosh.release import parse_job
from bundler.core.bosh.tarball import JobArchive
from tests.support import boshfixtures as bf

# a job.MF as bosh-cli and the director accept it: a TAB inside a plain (unquoted) scalar
TAB_JOB_MF = (
    b"---\nname: nats\ntemplates:\n  nats_ctl.erb: bin/nats_ctl\n  nats.yml.erb: config/nats.yml\n"
    b"packages:\n- nats\nproperties:\n  nats.port:\n    description: the port\tNATS listens on\n    default: 4222\n"
)


def _check(path, artifact) -> list[str]:
    return [str(p) for p in check_artifact(path, artifact)]


def test_a_corrupt_package_is_named_with_both_sha1s(tmp_path):
    good = bf.write_release(tmp_path / "good", "bosh", "233")
    bad = bf.write_release(tmp_path / "bad", "bosh", "233", corrupt_package="nats")
    problems = _check(bad.path, bf.release_artifact(good))
    assert len(problems) == 1
    assert problems[0].startswith("release bosh 233 (releases/bosh-233.tgz): packages/nats.tgz sha1 ")
    assert "does not match release.MF" in problems[0]


def test_job_problems_are_all_reported_together(tmp_path):
    job = bf.JobSpec("nats", ("nats", "ghost"), {"nats_ctl.erb": "bin/nats_ctl", "gone.erb": "x"})
    override = bf.job_tgz(job, with_monit=False, drop_templates=("gone.erb",))
    jobs = (job, *bf.BOSH_JOBS[1:])
    built = bf.write_release(tmp_path, "bosh", "233", jobs=jobs, job_overrides={"nats": override})
    problems = _check(built.path, bf.release_artifact(built))
    text = "\n".join(problems)
    assert "jobs/nats.tgz: job 'nats' is missing its monit file" in text
    assert "jobs/nats.tgz: template 'gone.erb' named in job.MF is missing from templates/" in text
    assert "jobs/nats.tgz: job 'nats' requires package 'ghost' which is not in the release" in text
    assert len(problems) == 3


def test_a_job_spec_with_a_tab_in_a_plain_scalar_is_read_as_bosh_reads_it():
    job, problems = parse_job(JobArchive(frozenset({"job.MF", "monit"}), TAB_JOB_MF), "jobs/nats.tgz")
    assert problems == []
    assert job is not None and (job.name, job.packages, job.properties) == ("nats", ("nats",), ("nats.port",))


def test_a_release_whose_job_spec_has_a_tab_passes(tmp_path):
    override = bf.job_tgz(bf.BOSH_JOBS[0], job_mf=TAB_JOB_MF)
    built = bf.write_release(tmp_path, "bosh", "233", job_overrides={"nats": override})
    assert check_artifact(built.path, bf.release_artifact(built)) == []


def test_a_job_spec_that_is_not_yaml_is_named(tmp_path):
    override = bf.job_tgz(bf.BOSH_JOBS[0], job_mf=b"name: nats\ntemplates: {a: [\n")
    built = bf.write_release(tmp_path, "bosh", "233", job_overrides={"nats": override})
    [problem] = _check(built.path, bf.release_artifact(built))
    assert problem.startswith("release bosh 233 (releases/bosh-233.tgz): jobs/nats.tgz: job.MF is not valid YAML (")
