# ccwheel's first step of every before-build, inside the build container.
#
# It routes the compilers through ccache and prepares the stable paths ccwheel injected.
# Every path comes from a CCWHEEL_* variable that platforms/linux.py sets (the in-container
# contract is declared there, once). It must never fail a build: any problem becomes one
# warning line (also written to $CCWHEEL_RUN_DIR/$CCWHEEL_IDENTIFIER.status for the host's
# report, when the host can see it) and the build goes on without the cache. Always exits 0.

# The container runs as root, the host user usually not: what lands in the mounted cache
# must stay readable and removable by them (ccache's own files follow CCACHE_UMASK).
umask 000

# Every path below comes from these variables (no name of the cache's or the work
# directory's layout is spelled here), and some are removed with rm -rf: with one missing
# (a composition gone wrong), nothing is touched at all.
value=""
for var in CCWHEEL_WORK CCWHEEL_BINARIES CCWHEEL_NO_BINARY CCWHEEL_MOUNT \
  CCWHEEL_MOUNT_RUN_DIR CCWHEEL_MOUNT_DATA CCWHEEL_CACHE_LINK CCWHEEL_RUN_DIR \
  CCWHEEL_RUN_DOWNLOADS CCWHEEL_IDENTIFIER CCWHEEL_LINKS CCWHEEL_FRESH CCWHEEL_SMOKE \
  CCWHEEL_LOCAL_CACHE; do
  eval "value=\${$var:-}"
  case "$value" in
    "" | / | *"/../"* | *"/..") echo "ccwheel: warning: ccwheel setup: $var is not set - building without the cache" >&2; exit 0 ;;
  esac
done
case "$CCWHEEL_WORK" in
  /*/*) ;;
  *) echo "ccwheel: warning: ccwheel setup: CCWHEEL_WORK=$CCWHEEL_WORK is not a working directory of its own - building without the cache" >&2; exit 0 ;;
esac
# What is removed at the start lies in the work directory, or nothing is touched. No
# globbing: CCWHEEL_FRESH, a list, is split on spaces only, here as where it is removed.
set -f
# shellcheck disable=SC2086 # a list of paths
for path in $CCWHEEL_FRESH "$CCWHEEL_SMOKE" "$CCWHEEL_CACHE_LINK" "$CCWHEEL_LOCAL_CACHE"; do
  case "$path" in
    "$CCWHEEL_WORK"/?*) ;;
    *) echo "ccwheel: warning: ccwheel setup: $path is not in $CCWHEEL_WORK - building without the cache" >&2; exit 0 ;;
  esac
done
set +f

links=$CCWHEEL_LINKS
status="$CCWHEEL_RUN_DIR/$CCWHEEL_IDENTIFIER.status"
info="$CCWHEEL_RUN_DIR/$CCWHEEL_IDENTIFIER.info"

warn() {
  echo "ccwheel: warning: $* - building without the cache" >&2
  { echo "$*" >"$status"; } 2>/dev/null
}

# A fresh start for every build: links and stable directories left by the previous
# Python version in this container must not leak into this one.
# The link to the cache first: a path through it would reach the mount.
set -f
# shellcheck disable=SC2086 # a list of paths, each checked above
rm -rf "${CCWHEEL_CACHE_LINK:?}" $CCWHEEL_FRESH "${CCWHEEL_SMOKE:?}"
set +f
mkdir -p "$CCWHEEL_WORK"

# Nothing about the build frontend happens here: the user's before-build runs after this
# step, and the build requirements are resolved after it (frontend.py), as the frontend
# itself would.

# Where the cache lives. The host created this run's directory before the container
# started: seeing it proves the mount is the host's cache directory. A remote engine
# (DOCKER_HOST, docker:dind) mounts an empty directory of its own instead; a rootless
# engine or SELinux without :z leave it unreadable or unwritable. ccache fails the
# compile when it cannot write its cache directory, so every cache path goes through
# the link $CCWHEEL_CACHE_LINK, pointed at a directory that works.
writable() {
  mkdir -p "$1" 2>/dev/null && : >"$1/.ccwheel-probe.$$" 2>/dev/null && rm -f "$1/.ccwheel-probe.$$"
}
# The host reads this build's status, info and stats files back from the container at
# the end of the build when they are not in its cache directory, so they are written
# through the link in every case.
cache_mode=shared
if [ -d "$CCWHEEL_MOUNT_RUN_DIR" ] && writable "$CCWHEEL_MOUNT_DATA"; then
  ln -s "$CCWHEEL_MOUNT" "$CCWHEEL_CACHE_LINK"
  mkdir -p "$CCWHEEL_RUN_DIR" 2>/dev/null
else
  if [ -d "$CCWHEEL_MOUNT_RUN_DIR" ]; then
    why="the container cannot write the cache directory $CCWHEEL_HOST_CACHE_DIR"
  else
    why="the container cannot see the cache directory $CCWHEEL_HOST_CACHE_DIR (a remote or rootless container engine, or SELinux without --selinux-relabel?)"
  fi
  # A directory of this container's own: it lives as long as the container.
  if ! { mkdir -p "$CCWHEEL_LOCAL_CACHE" && ln -s "$CCWHEEL_LOCAL_CACHE" "$CCWHEEL_CACHE_LINK"; }; then
    warn "$why, and $CCWHEEL_LOCAL_CACHE cannot be created"
    exit 0
  fi
  mkdir -p "$CCWHEEL_RUN_DIR" 2>/dev/null
  if [ -z "${CCACHE_REMOTE_STORAGE:-}" ]; then
    warn "$why; with a remote docker daemon use --remote-storage"
    exit 0
  fi
  # The remote storage still serves and takes every result.
  echo "ccwheel: warning: $why; using the remote storage only" >&2
  cache_mode=remote-only
fi
# The download cache. pip and uv use a cache root of this run's own, in which every entry
# of the shared cache is linked but what they built from sdists: that is not kept from one
# build to the next (tagged linux_<arch>, any image would take it, whatever C library it
# needs), and this run removes only its own. What an earlier build left with root's umask
# (one that failed before its end) becomes the host user's to move and remove again.
# Through the link, so never the mount unchecked.
built_by_installers() {
  set -f
  for pattern in ${CCWHEEL_BUILT_BY_INSTALLERS:-}; do
    # shellcheck disable=SC2254 # the patterns are globs
    case "$1" in $pattern) set +f; return 0 ;; esac
  done
  set +f
  return 1
}
share_downloads() {
  for tool in ${CCWHEEL_DOWNLOAD_CACHES:-}; do
    own="$CCWHEEL_RUN_DOWNLOADS/$tool"
    mkdir -p "$own" "$CCWHEEL_DOWNLOADS/$tool" 2>/dev/null || continue
    for entry in "$own"/*; do
      # What this run built, and a link to a shared entry that is gone (uv cannot create
      # a bucket where a dangling link is).
      if built_by_installers "$tool/${entry##*/}" || { [ -L "$entry" ] && [ ! -e "$entry" ]; }; then
        rm -rf "${entry:?}"
      fi
    done
    for entry in "$CCWHEEL_DOWNLOADS/$tool"/*; do
      name=${entry##*/}
      if [ ! -d "$entry" ] || built_by_installers "$tool/$name"; then continue; fi
      [ -e "$own/$name" ] || [ -L "$own/$name" ] || ln -s "$entry" "$own/$name"
    done
  done
}
if [ -n "${CCWHEEL_DOWNLOADS:-}" ]; then
  # Every run's own too: a run killed before its builds' finishing steps leaves its files
  # unremovable by the host user until a later container does this.
  # shellcheck disable=SC2086 # CCWHEEL_ALL_RUN_DOWNLOADS is a glob
  chmod -R a+rwX "$CCWHEEL_DOWNLOADS" ${CCWHEEL_ALL_RUN_DOWNLOADS:-} 2>/dev/null
  share_downloads
fi
mkdir -p "$links" || { warn "cannot create $links"; exit 0; }

ccache_version() {
  "$1" --version 2>/dev/null | sed -n '1s/^ccache version \([0-9][0-9.]*\).*/\1/p'
}

# A ccache that says it is 4.x but cannot compile would fail every compile: each
# candidate compiles one line (in a scratch cache) before it is trusted.
works() {
  cc=$(command -v cc || command -v gcc || command -v clang) || return 0  # nothing to route
  smoke=${CCWHEEL_SMOKE:?}
  rm -rf "$smoke" && mkdir -p "$smoke" && printf 'int ccwheel_smoke;\n' >"$smoke/s.c" &&
    CCACHE_DIR="$smoke/scratch" CCACHE_STATSLOG='' CCACHE_REMOTE_STORAGE='' CCACHE_NODEBUG=1 \
      "$1" "$cc" -c "$smoke/s.c" -o "$smoke/s.o" >/dev/null 2>&1 &&
    [ -s "$smoke/s.o" ]
}

# The image's own ccache when it is 4.12 or newer (stats_log needs 4.x, a list of base
# directories 4.12), else a static binary ccwheel copied into the container. In an emulated
# container (an aarch64 image on an x86_64 kernel) ccwheel's binary for the kernel's own
# architecture comes first: a static binary the kernel can run needs no emulation, the
# image's own ccache would be emulated.
machine=$(uname -m)
kernel=${CCWHEEL_KERNEL_ARCH:-$machine}
ccache=""
origin=""
ccwheel_binary() {  # $1: an architecture, or * for any
  # shellcheck disable=SC2086 # $1 may be the glob *
  for candidate in "$CCWHEEL_BINARIES"/$1/ccache; do
    # A Windows host's tar drops the execute bit; this container's root can put it back.
    [ -f "$candidate" ] && [ ! -x "$candidate" ] && chmod +x "$candidate" 2>/dev/null
    if [ -x "$candidate" ] && [ -n "$(ccache_version "$candidate")" ] && works "$candidate"; then
      ccache=$candidate; origin=ccwheel; return 0
    fi
  done
  return 1
}
if [ "$machine" != "$kernel" ]; then ccwheel_binary "$kernel"; fi
# The image's own ccache, when it is at least $1.$2 and works.
image_ccache() {
  own=$(command -v ccache 2>/dev/null) || return 1
  v=$(ccache_version "$own")
  major=${v%%.*}
  minor=${v#*.}
  minor=${minor%%.*}
  [ -n "$v" ] && [ "$major" -eq "$major" ] 2>/dev/null && [ "$minor" -eq "$minor" ] 2>/dev/null ||
    return 1
  { [ "$major" -gt "$1" ] || { [ "$major" -eq "$1" ] && [ "$minor" -ge "$2" ]; }; } || return 1
  works "$own" || return 1
  ccache=$own
  origin=image
}
[ -n "$ccache" ] || image_ccache 4 12
[ -n "$ccache" ] || ccwheel_binary "*"
# Last resort: an older 4.x of the image's. It reads the list of base directories as one
# path, so paths under the container's temporary directory are hashed as they are (a
# backend that builds from a temporary copy of the project misses); all else hits.
if [ -z "$ccache" ] && image_ccache 4 0; then
  echo "ccwheel: note: the image's ccache $v predates 4.12, which a list of base directories needs: only paths that stay put hit" >&2
fi
if [ -z "$ccache" ]; then
  # The host says why it could not give one (a download that failed, say).
  why=$(sed -n 1p "$CCWHEEL_NO_BINARY" 2>/dev/null)
  warn "no usable ccache for $machine in the container (the image has none >= 4.0; ${why:-ccwheel has no binary that runs here})"
  exit 0
fi
if [ "$origin" = ccwheel ]; then
  binary_arch=$(basename "$(dirname "$ccache")")
else
  binary_arch=$machine
fi
# Native: the kernel's own architecture, or one it runs as a 32-bit personality.
case "$kernel:$binary_arch" in
  "$binary_arch:$binary_arch" | x86_64:i?86 | aarch64:armv7l | aarch64:armv8l) emulated=no ;;
  *) emulated=yes ;;
esac
[ -n "${CCWHEEL_KERNEL_ARCH:-}" ] || emulated=unknown
v=$(ccache_version "$ccache")

# The cache must be writable from here (your own CCACHE_DIR, a full disk): a quick probe,
# so the reason reaches the user instead of a ccache error on every compile.
if ! writable "${CCACHE_DIR:?}"; then
  warn "the cache directory $CCACHE_DIR is not writable in the container"
  exit 0
fi

# Masquerade links: `gcc` found first on PATH is ccache, which runs the next gcc on PATH.
# This reaches setuptools, CMake and meson alike without changing any compiler command.
# Only compilers that exist get a link. Besides the usual names: a compiler the user chose
# by name in CC/CXX, and the ones the build interpreter's sysconfig names, which setuptools
# uses when CC/CXX are unset (a target-triplet name such as aarch64-linux-gnu-gcc). A
# compiler given by full path cannot be reached through PATH: it is named in the info.
sysconfig_compilers=$(python -c '
import sysconfig
for var in ("CC", "CXX", "LDSHARED"):
    words = (sysconfig.get_config_var(var) or "").split()
    print(var, words[0] if words else "")' 2>/dev/null)
names="gcc g++ cc c++ clang clang++"
unrouted=""
route() {  # $1: the variable that names the compiler, $2: the command's first word
  case "$2" in
    "" | ccache | */ccache) ;;  # nothing, or the user's own ccache in front of a compiler
    */*) [ "$1" = LDSHARED ] || unrouted="$unrouted,$2" ;;  # link steps are not cached
    *) names="$names $2" ;;
  esac
}
# shellcheck disable=SC2086 # the first word of each: "gcc -pthread" names gcc
route CC ${CC:-}
# shellcheck disable=SC2086
route CXX ${CXX:-}
given=""
while read -r var word; do
  case "$var" in CC | CXX | LDSHARED) ;; *) continue ;; esac  # no interpreter: no lines
  # The user's own CC/CXX is what setuptools runs instead of the interpreter's.
  eval "given=\${$var:-}"
  [ -n "$given" ] || route "$var" "$word"
done <<SYSCONFIG
$sysconfig_compilers
SYSCONFIG
for name in $names; do
  if [ ! -e "$links/$name" ] && command -v "$name" >/dev/null 2>&1; then
    ln -s "$ccache" "$links/$name"
  fi
done

routed=$(cd "$links" && ls)
{
  echo "ccache=$ccache origin=$origin version=$v arch=$binary_arch container=$machine" \
    "emulated=$emulated cache=$cache_mode unrouted=${unrouted#,}" \
    "routed=$(echo "$routed" | tr '\n' ',' | sed 's/,$//')"
} >"$info" 2>/dev/null
described="$v ($origin, $binary_arch$([ "$emulated" = yes ] && echo ', emulated'))"
if [ -z "$routed" ]; then
  echo "ccwheel: ccache $described is ready, but no compiler was found on PATH to route through it for $CCWHEEL_IDENTIFIER" >&2
else
  echo "ccwheel: compilers routed through ccache $described for $CCWHEEL_IDENTIFIER" >&2
fi
exit 0
