"""The preflight's checks of what the VMs need: the key pair, the instance types and the stemcell's AMI.

Each is a function of the ``Preflight`` run that adds its ``Check`` row.  What the site file alone
decides is the site rules' (``installer.site.rules``): the private key file (there, a PEM key,
mode 0400/0600) and the instance types (a type name, not a PV-only family under an HVM stemcell);
those problems are reported here as they are, and the AWS calls are made only for what they left
standing.  Imports the run, the session's error helpers, the local key reader, the lock,
``bundler.core.awsnames`` and the site rules.
"""

from __future__ import annotations

from bundler.core.awsnames import region_of_zone, stemcell_virtualization
from bundler.core.errors import BundleError
from bundler.core.lock import Artifact
from installer.aws.checkrun import FAIL, PASS, SKIP, Preflight, problem_text
from installer.aws.keys import read_local_key
from installer.aws.session import AWS_ERRORS, error_code
from installer.site.rules import instance_type_problems, key_problems


def check_key_pair(pf: Preflight) -> None:
    kp, field = pf.site.key_pair, "key_pair.name"
    if pf.report("key_pair", key_problems(pf.site)):
        return
    try:
        local = read_local_key(kp.private_key)
    except BundleError as exc:
        pf.add("key_pair", FAIL, str(exc), "fix key_pair.private_key", "key_pair.private_key")
        return
    try:
        pairs = pf.clients.ec2.describe_key_pairs(KeyNames=[kp.name])["KeyPairs"]
    except AWS_ERRORS as exc:
        if error_code(exc) != "InvalidKeyPair.NotFound":
            raise
        pairs = []
    if not pairs:
        pf.add(
            "key_pair",
            FAIL,
            f"no key pair named {kp.name!r} in {pf.site.aws.region}",
            "run 'bosh-install aws prepare' (imports the local key), or import it in the EC2 console",
            field,
        )
        return
    remote = pairs[0].get("KeyFingerprint", "")
    if local.matches(remote):
        pf.add("key_pair", PASS, f"{kp.name!r} matches {kp.private_key} ({remote})", field=field)
        return
    pf.add(
        "key_pair",
        FAIL,
        f"key pair {kp.name!r} has fingerprint {remote}, but {kp.private_key} gives "
        f"{' or '.join(local.fingerprints[:2])}: the local private key is not this key pair's",
        "point key_pair.private_key at the key pair's private key, or re-import the local key under this name",
        field,
    )


def _wanted_types(pf: Preflight) -> dict[str, str]:
    site = pf.site
    wanted = {"microbosh.instance_type": site.microbosh.instance_type}
    if site.bosh:
        wanted["bosh.instance_type"] = site.bosh.instance_type
        wanted["bosh.director_instance_type"] = site.bosh.director_instance_type or site.bosh.instance_type
        wanted["bosh.compilation_instance_type"] = site.bosh.compilation_instance_type
    return wanted


def check_instance_types(pf: Preflight) -> None:
    site, field = pf.site, "microbosh.instance_type"
    flagged = instance_type_problems(site, pf.lock, with_bosh=site.bosh is not None)
    wanted = {k: v for k, v in _wanted_types(pf).items() if k not in {p.where for p in flagged}}
    types = sorted(set(wanted.values()))
    problems = [problem_text(flagged)] if flagged else []
    if pf.zone_ok and types:
        offered = {
            o["InstanceType"]
            for o in pf.clients.ec2.describe_instance_type_offerings(
                LocationType="availability-zone",
                Filters=[
                    {"Name": "location", "Values": [site.aws.availability_zone]},
                    {"Name": "instance-type", "Values": types},
                ],
            )["InstanceTypeOfferings"]
        }
        problems += [
            f"{key} {t} is not offered in {site.aws.availability_zone}" for key, t in wanted.items() if t not in offered
        ]
    virts = _virtualization_problems(pf, wanted, problems)
    if problems:
        fix = "choose current-generation types such as m3.xlarge, m3.medium, c3.large"
        pf.add("instance_types", FAIL, "; ".join(problems), fix, field)
        return
    detail = ", ".join(types) + (f" in {site.aws.availability_zone}" if pf.zone_ok else "")
    if virts:
        detail += f", support {'/'.join(sorted(virts))}"
    pf.add("instance_types", PASS, detail, field=field)


def _virtualization_problems(pf: Preflight, wanted: dict[str, str], problems: list[str]) -> set[str]:
    """Each type against what AWS says it supports for its deployment's stemcell; returns the kinds seen."""
    # MicroBOSH boots the light stemcell, the BOSH deployment the regular one (installer.manifests.render)
    used: dict[str, Artifact] = {}
    for key in wanted:
        sc = pf.lock.stemcell("light" if key.startswith("microbosh.") else "regular") if pf.lock else None
        if sc is not None:
            used[key] = sc
    supported = _virtualization_types(pf, sorted({wanted[k] for k in used})) if used else {}
    virts = set()
    for key, sc in used.items():
        itype, virt = wanted[key], stemcell_virtualization(sc.name)
        virts.add(virt)
        known = supported.get(itype)
        if known is not None and virt not in known:
            problems.append(f"{key} {itype} does not support {virt} AMIs (stemcell {sc.name})")
    return virts


def _virtualization_types(pf: Preflight, types: list[str]) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for itype in types:  # one by one: an unknown type fails the whole call
        try:
            info = pf.clients.ec2.describe_instance_types(InstanceTypes=[itype])["InstanceTypes"]
        except AWS_ERRORS as exc:
            if error_code(exc) != "InvalidInstanceType":
                raise
            continue
        if info and info[0].get("SupportedVirtualizationTypes"):
            out[itype] = set(info[0]["SupportedVirtualizationTypes"])
    return out


def check_stemcell_ami(pf: Preflight) -> None:
    field = "aws.region"
    if pf.lock is None:
        pf.add("stemcell_ami", SKIP, "not checked: no lock given (--lock bundle.lock)", field=field)
        return
    stemcells = pf.lock.by_kind("stemcell")
    if not stemcells:
        pf.add("stemcell_ami", SKIP, "the lock has no stemcell", field=field)
        return
    region = pf.site.aws.region
    for sc in stemcells:
        label = f"stemcell {sc.name} {sc.version}"
        amis = sc.meta.get("ami") or {}
        if sc.meta.get("variant") != "light" and not amis:
            pf.add("stemcell_ami", PASS, f"{label} is a full stemcell: the CPI uploads it as an AMI", field=field)
            continue
        ami = amis.get(region)
        if not ami:
            _no_ami(pf, label, amis)
            continue
        pf.aws("stemcell_ami", field, lambda pf, sc=sc, ami=ami, label=label: _check_ami(pf, sc, ami, label))


def _no_ami(pf: Preflight, label: str, amis: dict[str, str]) -> None:
    region = pf.site.aws.region
    fix = f"use a region the stemcell has an AMI for ({', '.join(sorted(amis)) or 'none'})"
    zone_region = region_of_zone(region)
    if zone_region:
        fix = f"aws.region {region!r} is an availability zone: set aws.region to {zone_region!r}"
    pf.add(
        "stemcell_ami",
        FAIL,
        f"{label} has no AMI for region {region} (bosh-init would fail with 'Stemcell does not "
        f"contain an AMI for this region ({region})')",
        fix,
        "aws.region",
    )


def _check_ami(pf: Preflight, sc: Artifact, ami: str, label: str) -> None:
    field, region = "aws.region", pf.site.aws.region
    try:
        images = pf.clients.ec2.describe_images(ImageIds=[ami])["Images"]
    except AWS_ERRORS as exc:
        if not error_code(exc).startswith("InvalidAMIID"):
            raise
        images = []
    if not images:
        pf.add(
            "stemcell_ami",
            FAIL,
            f"{label} names {ami} for {region}, but that AMI does not exist or is not visible",
            "use a newer light stemcell, or the full stemcell (the CPI then creates the AMI)",
            field,
        )
        return
    image = images[0]
    virt, want = image.get("VirtualizationType"), stemcell_virtualization(sc.name)
    if image.get("State", "available") != "available":
        pf.add("stemcell_ami", FAIL, f"AMI {ami} of {label} is {image.get('State')}", "wait or re-register", field)
    elif virt and virt != want:
        pf.add(
            "stemcell_ami",
            FAIL,
            f"AMI {ami} of {label} is {virt}, but the stemcell name says {want}",
            "the lock names the wrong AMI: lock the stemcell again",
            field,
        )
    else:
        pf.add("stemcell_ami", PASS, f"{label}: {ami} exists in {region} ({virt or want})", "", field)
