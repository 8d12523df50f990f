"""The manifest rules of the stand-in bosh-init (``bosh-init`` beside this file), as bosh-init 0.0.81
applies them (release/set/manifest, installation/manifest, cpi/release and deployment/manifest
validators, in the order of its "validating" stage) and with its messages.

``validate(manifest, path, deleting)`` yields each stage it passed and raises ``Refused`` (the stage
that failed, bosh-init's message) at the first stage with a problem.  Releases are read as far as
their ``release.MF`` job names; a release file that is not a tarball (a test fixture's placeholder)
is taken as one whose jobs are not known.  Standard library and PyYAML only.
"""

import ipaddress
import re
import tarfile
from pathlib import Path

URL = re.compile(r"^(file|http|https)://")
INT_FIELDS = (("disk_pools", "disk_size"), ("jobs", "instances"), ("jobs", "persistent_disk"))


class Refused(Exception):
    def __init__(self, message, stage=None):
        super().__init__(message)
        self.stage = stage


def nested(title, errs):
    return title + ":\n" + "\n".join("  " + line for e in errs for line in e.splitlines())


def blank(value):
    return not str(value or "").strip()


def _dicts(value):
    return [v if isinstance(v, dict) else {} for v in (value if isinstance(value, list) else [])]


def load(path):
    import yaml

    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        message = f"Parsing release set manifest '{path}':\n  Unmarshalling release set manifest:\n    yaml: {exc}"
        raise Refused(message) from None
    if not isinstance(doc, dict):
        kind = "!!seq" if isinstance(doc, list) else "!!str"
        raise Refused(
            f"Parsing release set manifest '{path}':\n  Unmarshalling release set manifest:\n"
            f"    yaml: unmarshal errors:\n      line 1: cannot unmarshal {kind} into manifest.manifest"
        )
    return doc


def file_path(url, base):
    p = Path(url[len("file://") :])
    return p if p.is_absolute() else base / p


def release_jobs(path):
    """The job names in a release tarball's release.MF, or None when it is not a release tarball."""
    import yaml

    try:
        with tarfile.open(path) as tar:
            for member in tar:
                if member.name.removeprefix("./") == "release.MF":
                    mf = yaml.safe_load(tar.extractfile(member).read()) or {}
                    return {j.get("name") for j in _dicts(mf.get("jobs"))}
    except (tarfile.TarError, OSError):
        return None
    return None


def release_set_errors(m):
    errs, seen = [], set()
    releases = _dicts(m.get("releases"))
    if not releases:
        errs.append("releases must contain at least 1 release")
    for i, r in enumerate(releases):
        name, url = r.get("name"), str(r.get("url") or "")
        if blank(name):
            errs.append(f"releases[{i}].name must be provided")
        if name in seen:
            errs.append(f"releases[{i}].name '{name}' must be unique")
        seen.add(name)
        if blank(url):
            errs.append(f"releases[{i}].url must be provided")
        if not URL.match(url):
            errs.append(f"releases[{i}].url must be a valid URL (file:// or http(s)://)")
        if url.startswith("http") and blank(r.get("sha1")):
            errs.append(f"releases[{i}].sha1 must be provided for http URL")
    return errs


def installation_errors(m, names):
    template = ((m.get("cloud_provider") or {}).get("template")) or {}
    errs = []
    if blank(template.get("name")):
        errs.append("cloud_provider.template.name must be provided")
    release = template.get("release") or ""
    if blank(release):
        errs.append("cloud_provider.template.release must be provided")
    if release not in names:
        errs.append(f"cloud_provider.template.release '{release}' must refer to a release in releases")
    return errs


def fetch_release(r, base):
    """The release's job names (None: not known); Refused when bosh-init could not extract it."""
    url = str(r.get("url"))
    stage = f"Validating release '{r.get('name')}'"
    if not url.startswith("file://"):
        raise Refused(f"Downloading release '{r.get('name')}':\n  stand-in: no network", stage)
    path = file_path(url, base)
    if not path.is_file():
        raise Refused(
            f"Extracting release '{path}':\n  Reading release from '{path}':\n    tar (child): {path}: "
            "Cannot open: No such file or directory",
            stage,
        )
    return release_jobs(path)


def network_errors(m):
    errs, ranges = [], {}
    for i, n in enumerate(_dicts(m.get("networks"))):
        if blank(n.get("name")):
            errs.append(f"networks[{i}].name must be provided")
        if n.get("type") not in ("manual", "dynamic", "vip"):
            errs.append(f"networks[{i}].type must be 'manual', 'dynamic', or 'vip'")
        if n.get("type") != "manual":
            continue
        subnets = _dicts(n.get("subnets"))
        if len(subnets) != 1:
            errs.append(f"networks[{i}].subnets must be of size 1")
            continue
        rng = subnet_range(i, subnets[0], errs)
        ranges[n.get("name")] = rng
        gateway_errors(i, subnets[0].get("gateway"), rng, errs)
    return errs, ranges


def subnet_range(i, subnet, errs):
    text = str(subnet.get("range") or "")
    if blank(text):
        errs.append(f"networks[{i}].subnets[0].range must be provided")
        return None
    try:
        if "/" not in text:
            raise ValueError(text)
        return ipaddress.ip_network(text, strict=False)  # Go's ParseCIDR: 10.0.0.5/24 is 10.0.0.0/24
    except ValueError:
        errs.append(f"networks[{i}].subnets[0].range must be an ip range")
        return None


def gateway_errors(i, gateway, rng, errs):
    if blank(gateway):
        errs.append(f"networks[{i}].subnets[0].gateway must be provided")
        return
    if rng is None:
        return
    try:
        gw = ipaddress.ip_address(str(gateway))
    except ValueError:
        errs.append(f"networks[{i}].subnets[0].gateway must be an ip")
        gw = None
    if gw is None or gw not in rng:
        errs.append(f"subnet gateway '{gateway}' must be within the specified range '{rng}'")
    if gw == rng.network_address:
        errs.append(f"subnet gateway can't be the network address '{gw}'")
    if gw == rng.broadcast_address:
        errs.append(f"subnet gateway can't be the broadcast address '{gw}'")


def pool_errors(m, networks):
    errs = []
    for i, rp in enumerate(_dicts(m.get("resource_pools"))):
        if blank(rp.get("name")):
            errs.append(f"resource_pools[{i}].name must be provided")
        if blank(rp.get("network")):
            errs.append(f"resource_pools[{i}].network must be provided")
        elif rp.get("network") not in networks:
            errs.append(f"resource_pools[{i}].network must be the name of a network")
        stemcell = rp.get("stemcell") or {}
        url = str(stemcell.get("url") or "")
        if blank(url):
            errs.append(f"resource_pools[{i}].stemcell.url must be provided")
        if not URL.match(url):
            errs.append(f"resource_pools[{i}].stemcell.url must be a valid URL (file:// or http(s)://)")
        if url.startswith("http") and blank(stemcell.get("sha1")):
            errs.append(f"resource_pools[{i}].stemcell.sha1 must be provided for http URL")
    for i, dp in enumerate(_dicts(m.get("disk_pools"))):
        if blank(dp.get("name")):
            errs.append(f"disk_pools[{i}].name must be provided")
        if (dp.get("disk_size") or 0) <= 0:
            errs.append(f"disk_pools[{i}].disk_size must be > 0")
    return errs


def job_errors(m, names, ranges):
    jobs, errs = _dicts(m.get("jobs")), []
    if len(jobs) > 1:
        errs.append("jobs must be of size 1")
    disk_pools = {dp.get("name") for dp in _dicts(m.get("disk_pools"))}
    pools = {rp.get("name") for rp in _dicts(m.get("resource_pools"))}
    for i, j in enumerate(jobs):
        if blank(j.get("name")):
            errs.append(f"jobs[{i}].name must be provided")
        if (j.get("persistent_disk") or 0) < 0:
            errs.append(f"jobs[{i}].persistent_disk must be >= 0")
        if j.get("persistent_disk_pool") and j["persistent_disk_pool"] not in disk_pools:
            errs.append(f"jobs[{i}].persistent_disk_pool must be the name of a disk pool")
        if (j.get("instances") or 0) < 0:
            errs.append(f"jobs[{i}].instances must be >= 0")
        if not _dicts(j.get("networks")):
            errs.append(f"jobs[{i}].networks must be a non-empty array")
        if blank(j.get("resource_pool")):
            errs.append(f"jobs[{i}].resource_pool must be provided")
        elif j["resource_pool"] not in pools:
            errs.append(f"jobs[{i}].resource_pool must be the name of a resource pool")
        errs += job_network_errors(i, _dicts(j.get("networks")), m, ranges)
        if j.get("lifecycle") and j["lifecycle"] != "service":
            errs.append(f"jobs[{i}].lifecycle must be 'service' ('{j['lifecycle']}' not supported)")
        errs += template_errors(i, _dicts(j.get("templates")), names)
    return errs


def job_network_errors(i, job_networks, m, ranges):
    errs, counts = [], {}
    networks = {n.get("name"): n for n in _dicts(m.get("networks"))}
    for k, jn in enumerate(job_networks):
        if blank(jn.get("name")):
            errs.append(f"jobs[{i}].networks[{k}].name must be provided")
        network = networks.get(jn.get("name"))
        if network is None:
            errs.append(f"jobs[{i}].networks[{k}] not found in networks")
        for n, ip in enumerate(jn.get("static_ips") or []):
            try:
                address = ipaddress.ip_address(str(ip))
            except ValueError:
                errs.append(f"jobs[{i}].networks[{k}].static_ips[{n}] must be a valid IP")
                continue
            rng = ranges.get(jn.get("name")) if (network or {}).get("type") == "manual" else None
            if (network or {}).get("type") == "manual" and (rng is None or address not in rng):
                errs.append(f"jobs[{i}].networks[{k}] static ip '{ip}' must be within subnet range")
        for d, value in enumerate(jn.get("default") or []):
            if value not in ("dns", "gateway"):
                errs.append(f"jobs[{i}].networks[{k}].default[{d}] must be 'dns' or 'gateway'")
            counts[value] = counts.get(value, 0) + 1
    for which in ("dns", "gateway"):
        if len(job_networks) > 1 and which not in counts:
            errs.append(f"with multiple networks, a default for '{which}' must be specified")
        elif counts.get(which, 0) > 1:
            errs.append(f"only one network can be the default for '{which}'")
    return errs


def template_errors(i, templates, names):
    errs, seen = [], set()
    for k, t in enumerate(templates):
        if blank(t.get("name")):
            errs.append(f"jobs[{i}].templates[{k}].name must be provided")
        if t.get("name") in seen:
            errs.append(f"jobs[{i}].templates[{k}].name '{t.get('name')}' must be unique")
        seen.add(t.get("name"))
        if blank(t.get("release")):
            errs.append(f"jobs[{i}].templates[{k}].release must be provided")
        elif t["release"] not in names:
            errs.append(f"jobs[{i}].templates[{k}].release '{t['release']}' must refer to release in releases")
    return errs


def release_job_errors(m, jobs_of):
    errs = []
    for i, j in enumerate(_dicts(m.get("jobs"))):
        for k, t in enumerate(_dicts(j.get("templates"))):
            known = jobs_of.get(t.get("release"))
            if known is not None and t.get("name") not in known:
                errs.append(
                    f"jobs[{i}].templates[{k}] must refer to a job in '{t.get('release')}', "
                    f"but there is no job named '{t.get('name')}'"
                )
    return errs


def type_errors(m):
    errs = []
    for section, key in INT_FIELDS:
        for item in _dicts(m.get(section)):
            value = item.get(key)
            if value is not None and (not isinstance(value, int) or isinstance(value, bool)):
                errs.append(f"cannot unmarshal !!str `{value}` into int")
    return errs


def validate(m, path, deleting=False):
    """Yield each stage passed; raise Refused at the first with a problem."""
    base = path.parent
    errs = release_set_errors(m)
    if errs:
        raise Refused(f"Parsing release set manifest '{path}':\n  " + nested("Validating release set manifest", errs))
    releases = {r.get("name"): r for r in _dicts(m.get("releases"))}
    errs = installation_errors(m, releases)
    if errs:
        raise Refused(f"Parsing installation manifest '{path}':\n  " + nested("Validating installation manifest", errs))
    template = m["cloud_provider"]["template"]
    jobs_of = {}
    for name, r in releases.items():
        if not deleting or name == template["release"]:
            jobs_of[name] = fetch_release(r, base)
            yield f"Validating release '{name}'"
    cpi_jobs = jobs_of[template["release"]]
    if cpi_jobs is not None and template["name"] not in cpi_jobs:
        message = f"CPI release must contain specified job '{template['name']}'"
        raise Refused(f"Invalid CPI release '{template['release']}':\n  {message}", "Validating cpi release")
    yield "Validating cpi release"
    if not deleting:
        yield from validate_deployment(m, path, jobs_of)


def validate_deployment(m, path, jobs_of):
    stage = "Validating deployment manifest"
    errs = type_errors(m)
    if errs:
        raise Refused(nested(f"Parsing deployment manifest '{path}'", [nested("yaml: unmarshal errors", errs)]), stage)
    net_errs, ranges = network_errors(m)
    networks = {n.get("name") for n in _dicts(m.get("networks"))}
    errs = (["name must be provided"] if blank(m.get("name")) else []) + net_errs + pool_errors(m, networks)
    errs += job_errors(m, jobs_of, ranges)
    if errs:
        raise Refused(nested(stage, errs), stage)
    errs = release_job_errors(m, jobs_of)
    if errs:
        raise Refused(nested("Validating deployment jobs refer to jobs in release", errs), stage)
    yield stage
    stemcell = (_dicts(m.get("resource_pools")) or [{}])[0].get("stemcell") or {}
    url = str(stemcell.get("url"))
    if url.startswith("file://") and not file_path(url, base=path.parent).is_file():
        where = file_path(url, path.parent)
        raise Refused(f"Extracting stemcell from '{where}':\n  No such file or directory", "Validating stemcell")
    yield "Validating stemcell"
