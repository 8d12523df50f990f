"""The text of ``install.sh``, the bundle's first program on the offline host (POSIX sh).

In order: ``--help`` at once; ``--keyring``: ``SHA256SUMS.gpg`` checked with ``gpgv``;
``bootstrap.tar.gz`` against ``SHA256SUMS``; unpacked into a temporary directory; the host checked in
sh before anything changes (``runtime/target``: OS release, architecture, root, free disk as 3x the
larger of the payload and the lock's total, every problem listed); the state directory's lock taken
with ``flock(1)`` and handed down (``installer.statelock``); Python brought up (distro: the host's
python3 or the bundled debs, which ``--dry-run`` unpacks with ``dpkg-deb -x`` into the temporary
directory instead of installing; standalone: the bundled tarball) with the wheels; then
``python3 -m installer install --bundle DIR "$@"``, told what was changed already
(``BOSH_OFFLINE_CHANGED``).  The installer's ``installer`` step keeps itself under /opt/bosh-offline.

``bundler.bootstrap`` writes it; imports nothing.
"""

NEEDED_MODULES = ("yaml", "py7zr")

INSTALL_SH = r"""#!/bin/sh
# bosh-offline bootstrap: install the BOSH toolchain from this bundle on a host without network.
#   sh install.sh [--keyring FILE] [--yes] [--dry-run] [--root DIR] ...   (options of 'bosh-install install')
# Uses only sh, tar, gzip, sha256sum and dpkg (what a base system has), and gpgv with --keyring:
# then SHA256SUMS.gpg is checked first. Checks bootstrap.tar.gz
# against SHA256SUMS, unpacks it, brings up Python, then runs the installer, which verifies the
# whole bundle before changing anything.
set -eu

say() { printf '%s install.sh: %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$*" >&2; }
die() { say "error: $*"; exit 1; }

usage() {
    cat <<'USAGE'
usage: sh install.sh [--yes] [--dry-run] [--root DIR] [--state-dir DIR] [--jobs N] [--keyring FILE] ...

Install the BOSH toolchain from this bundle directory on a host without network, as root.
Runs 'bosh-install install --bundle DIR' with these options, after checking SHA256SUMS, this host
(OS release, architecture, root, free disk) and bringing up the installer's Python. The installer
stays installed: bosh-install (in /usr/local/bin, code under /opt/bosh-offline) for status, plan,
verify, manifests, deploy, destroy and fetch.

  --yes            do not ask for confirmation
  --dry-run        check and show the plan; change nothing (not even the installer's runtime)
  --root DIR       install into this root directory (through chroot)
  --state-dir DIR  journal, logs and extracted payload (default ROOT/var/lib/bosh-offline)
  --jobs N         parallel make jobs for Ruby
  --keyring FILE   check SHA256SUMS.gpg with gpgv against this keyring first
USAGE
}
dry_run=no root= state_dir= prev=
for arg in "$@"; do
    case "$prev" in --root) root=$arg ;; --state-dir) state_dir=$arg ;; esac
    case "$arg" in
    -h | --help) usage; exit 0 ;;
    --dry-run) dry_run=yes ;;
    --root=*) root=${arg#--root=} ;;
    --state-dir=*) state_dir=${arg#--state-dir=} ;;
    esac
    prev=$arg
done
root=${root%/}
[ -n "$state_dir" ] || state_dir="$root/var/lib/bosh-offline"

case "$0" in */*) here=${0%/*} ;; *) here=. ;; esac
here=$(cd "$here" && pwd) || die "cannot find the bundle directory"

for cmd in tar gzip sha256sum; do
    command -v "$cmd" >/dev/null 2>&1 || die "'$cmd' is missing; it is part of every base system"
done
[ -f "$here/SHA256SUMS" ] || die "$here/SHA256SUMS is missing: copy the whole bundle directory"
[ -f "$here/bootstrap.tar.gz" ] || die "$here/bootstrap.tar.gz is missing: copy the whole bundle directory"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/bosh-offline.XXXXXX") || die "cannot create a temporary directory"
cleanup() { rm -rf "$tmp"; }
trap cleanup EXIT
trap 'exit 130' INT TERM

# --keyring FILE: SHA256SUMS.gpg must be a good signature by a key of FILE (gpgv, as apt checks its
# archives) before anything of the bundle is used; the options are passed on to the installer too.
keyring= require= prev=
for arg in "$@"; do
    [ "$prev" = --keyring ] && keyring=$arg
    case "$arg" in
    --keyring=*) keyring=${arg#--keyring=} ;;
    --require-signature) require=yes ;;
    --no-require-signature) require=no ;;
    esac
    prev=$arg
done
[ -n "$keyring" ] && [ -z "$require" ] && require=yes
[ "$require" != yes ] || [ -n "$keyring" ] || die "--require-signature needs --keyring FILE (the signer's public key)"
if [ -n "$keyring" ]; then
    [ -f "$keyring" ] || die "--keyring $keyring: no such file"
    case "$keyring" in /*) ;; *) keyring="$(pwd)/$keyring" ;; esac
    sig="$here/SHA256SUMS.gpg"
    if [ -f "$sig" ] && [ ! -L "$sig" ]; then
        command -v gpgv >/dev/null 2>&1 || die "'gpgv' is missing: it is needed to check the signature (apt brings it)"
        mkdir "$tmp/gnupg"
        rc=0
        out=$(GNUPGHOME="$tmp/gnupg" LC_ALL=C gpgv --status-fd 1 --keyring "$keyring" \
            "$sig" "$here/SHA256SUMS" 2>/dev/null) || rc=$?
        case "$out" in
        *"[GNUPG:] BADSIG"*) die "$sig: bad: SHA256SUMS was changed after it was signed" ;;
        *"[GNUPG:] NO_PUBKEY"*) die "$sig: unknown key: the signer is not in the keyring $keyring" ;;
        *"[GNUPG:] VALIDSIG"*) [ "$rc" = 0 ] || die "$sig: bad: gpgv exited $rc" ;;
        *) die "$sig: bad: not a valid signature over SHA256SUMS" ;;
        esac
        say "SHA256SUMS: good signature by a key of $keyring"
    elif [ "$require" = yes ]; then
        die "$sig: missing: the bundle is not signed (sign it with 'bosh-bundle sign')"
    fi
fi

line=$(grep -E '^[0-9a-f]{64} [ *]bootstrap\.tar\.gz$' "$here/SHA256SUMS" || true)
[ -n "$line" ] || die "SHA256SUMS has no line for bootstrap.tar.gz: the bundle is incomplete"
expected=${line%% *}
actual=$(sha256sum "$here/bootstrap.tar.gz") || die "cannot read bootstrap.tar.gz"
actual=${actual%% *}
[ "$expected" = "$actual" ] ||
    die "bootstrap.tar.gz has sha256 $actual, SHA256SUMS says $expected: the bundle is corrupted; copy it again"

gzip -dc "$here/bootstrap.tar.gz" | tar -xf - -C "$tmp" || die "cannot unpack bootstrap.tar.gz into $tmp"
mode=$(cat "$tmp/runtime/mode")

# The host, checked before the first dpkg -i (the installer checks it again, with its own words).
target() { sed -n "s/^$1=//p" "$tmp/runtime/target" | head -n 1; }
os_release() { sed -n "s/^$1=//p" "$osr" | head -n 1 | tr -d "\"'"; }
problems=
problem() { problems="$problems
  $*"; }
host_checks() {
    [ -f "$tmp/runtime/target" ] || return 0
    [ "$(id -u)" = 0 ] || problem "running as uid $(id -u): the installer must run as root (sudo sh install.sh)"
    want="$(target os) $(target release) ($(target codename)) $(target arch)"
    osr="$root/etc/os-release"
    [ -f "$osr" ] || osr="$root/usr/lib/os-release"
    if [ ! -f "$osr" ]; then
        problem "$root/etc/os-release: missing; cannot tell whether this host is $want"
    else
        id=$(os_release ID) version=$(os_release VERSION_ID) codename=$(os_release VERSION_CODENAME)
        [ -n "$codename" ] || codename=$(os_release UBUNTU_CODENAME)
        if [ "$id" != "$(target os)" ] || [ "$version" != "$(target release)" ] ||
            { [ -n "$codename" ] && [ "$codename" != "$(target codename)" ]; }; then
            problem "this bundle is for $want, but $osr says ${id:-?} ${version:-?} (${codename:-?}):" \
                "build a bundle for this host's release"
        fi
    fi
    machine=$(uname -m)
    case "$machine" in
    x86_64) arch=amd64 ;; aarch64) arch=arm64 ;; i686 | i386) arch=i386 ;; armv7l) arch=armhf ;; *) arch=$machine ;;
    esac
    [ -z "$(target arch)" ] || [ "$arch" = "$(target arch)" ] ||
        problem "this bundle is for $(target arch), but this machine is $arch ($machine):" \
            "build a bundle for this architecture"
    payload=0
    for volume in "$here"/payload.7z*; do
        [ -f "$volume" ] && payload=$((payload + $(wc -c <"$volume")))
    done
    need=$(target lock_bytes)
    [ "$payload" -gt "${need:-0}" ] && need=$payload
    need_kb=$(( (${need:-0} * $(target disk_factor) + 1023) / 1024 ))
    probe=$state_dir
    while [ ! -d "$probe" ] && [ "$probe" != / ] && [ -n "$probe" ]; do probe=$(dirname "$probe"); done
    free_kb=$(df -Pk "${probe:-/}" 2>/dev/null | awk 'NR == 2 { print $4 }')
    if [ -n "$free_kb" ] && [ "$free_kb" -lt "$need_kb" ]; then
        problem "$state_dir: $((free_kb / 1000)) MB free, need $((need_kb / 1000)) MB ($(target disk_factor)x the" \
            "payload, for extraction and the Ruby build): free some space or give --state-dir on a larger filesystem"
    fi
}
host_checks
[ -z "$problems" ] || die "preflight failed, nothing was changed:$problems"

# One run at a time: the state directory's lock (as bosh-install takes it), handed down to it.
if [ "$dry_run" = no ] && command -v flock >/dev/null 2>&1; then
    mkdir -p "$state_dir" || die "cannot create the state directory $state_dir"
    exec 9<>"$state_dir/lock" || die "cannot open $state_dir/lock"
    if ! flock -n 9; then
        holder=$(cat "$state_dir/lock" 2>/dev/null | tr -cd 0-9)
        die "$state_dir/lock: held by process ${holder:-?} (bosh-install runs one at a time on $state_dir);" \
            "wait for it to finish"
    fi
    echo $$ >"$state_dir/lock" # the holder's PID for the one refused next (flock holds the file, not the name)
    BOSH_OFFLINE_LOCK_FD=9
    export BOSH_OFFLINE_LOCK_FD
fi

python_new_enough() {
    command -v "$1" >/dev/null 2>&1 && "$1" -c 'import sys
sys.exit(0 if sys.version_info >= (3, 10) else 1)' >/dev/null 2>&1
}
pyextra=
modules_ok() {
    PYTHONPATH="$tmp/src:$tmp/site$pyextra" "$py" -c 'import @MODULES@' >/dev/null 2>&1
}
debs_installed=no
dpkg_stage() {
    [ $# -gt 0 ] || return 0
    DEBIAN_FRONTEND=noninteractive dpkg -i "$@" >>"$tmp/dpkg.log" 2>&1 || {
        grep -E '^dpkg: |^ ' "$tmp/dpkg.log" | tail -n 20 >&2
        die "dpkg could not install the runtime debs (see the lines above; full log $tmp/dpkg.log is removed on exit)"
    }
}
# --dry-run: the runtime debs unpacked (dpkg-deb -x) into the temporary directory, not installed
unpack_runtime_debs() {
    command -v dpkg-deb >/dev/null 2>&1 || die "dpkg-deb is missing: cannot unpack the installer's python3"
    say "dry run: unpacking the installer's python3 into $tmp/pyroot (not installing it)"
    mkdir -p "$tmp/pyroot"
    for deb in "$tmp"/runtime/debs/*.deb; do
        [ -f "$deb" ] && { dpkg-deb -x "$deb" "$tmp/pyroot" || die "cannot unpack $deb"; }
    done
    libs=
    for dir in "$tmp"/pyroot/lib/*-linux-gnu* "$tmp"/pyroot/usr/lib/*-linux-gnu*; do
        [ -d "$dir" ] && libs="$libs:$dir"
    done
    printf '#!/bin/sh\nLD_LIBRARY_PATH="%s" PYTHONHOME="%s" exec "%s" "$@"\n' \
        "${libs#:}" "$tmp/pyroot/usr" "$tmp/pyroot/usr/bin/python3" >"$tmp/python3"
    chmod 755 "$tmp/python3"
    py="$tmp/python3"
    pyextra=":$tmp/pyroot/usr/lib/python3/dist-packages"
}
install_runtime_debs() {
    if [ "$dry_run" = yes ]; then
        unpack_runtime_debs
        return 0
    fi
    command -v dpkg >/dev/null 2>&1 || die "dpkg is missing: cannot install the installer's python3"
    [ "$(id -u)" = 0 ] || die "installing the installer's python3 needs root: run as root (sudo sh install.sh)"
    [ -s "$tmp/runtime/debs.order" ] ||
        die "the bundle carries no python3 debs and this host has no usable python3 (>= 3.10)"
    say "installing the installer's python3 from the bundle (dpkg -i)"
    debs=
    while IFS= read -r deb; do
        if [ "$deb" = "--" ]; then
            dpkg_stage $debs
            debs=
        elif [ -n "$deb" ]; then
            debs="$debs $tmp/runtime/debs/$deb"
        fi
    done < "$tmp/runtime/debs.order"
    dpkg_stage $debs
    debs_installed=yes
    BOSH_OFFLINE_CHANGED="the installer's python3 runtime debs"
    export BOSH_OFFLINE_CHANGED
}
unpack_wheels() {
    set -- "$tmp"/runtime/wheels/*.whl
    [ -f "$1" ] || return 0
    "$py" -c 'import sys, zipfile
for wheel in sys.argv[2:]:
    zipfile.ZipFile(wheel).extractall(sys.argv[1])' "$tmp/site" "$@" || die "cannot unpack the installer's wheels"
}

mkdir "$tmp/site"
case "$mode" in
distro)
    py=python3
    if python_new_enough python3; then
        say "using this host's python3 ($(python3 -c 'import sys; print(sys.version.split()[0])'))"
    else
        install_runtime_debs
        python_new_enough "$py" || die "python3 from the bundle is older than 3.10"
    fi
    unpack_wheels
    if ! modules_ok && [ "$debs_installed" = no ]; then
        install_runtime_debs
    fi
    ;;
standalone)
    name=$(cat "$tmp/runtime/python.name")
    mkdir "$tmp/python"
    gzip -dc "$tmp/runtime/$name" | tar -xf - -C "$tmp/python" || die "cannot unpack $name"
    py="$tmp/python/python/bin/python3"
    [ -x "$py" ] || die "$name has no python/bin/python3"
    unpack_wheels
    ;;
*) die "bootstrap.tar.gz names an unknown runtime mode '$mode'" ;;
esac
modules_ok || die "the installer's Python ($py) cannot import @MODULES@ even with the bundle's wheels"

status=0
PYTHONPATH="$tmp/src:$tmp/site$pyextra" PYTHONDONTWRITEBYTECODE=1 "$py" -m installer install --bundle "$here" "$@" ||
    status=$?
exit "$status"
""".replace("@MODULES@", ", ".join(NEEDED_MODULES))
