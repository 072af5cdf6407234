#!/usr/bin/env bash
# Builds a static busybox that has every applet Jetway's helper image needs, chpst included
# (Debian's busybox-static has no chpst), from Debian's own busybox source: Debian's patches and
# its "static" configuration, plus CONFIG_CHPST. Prints the binary's path; give it to
#   jetway images push --busybox PATH
# Idempotent: an existing build is reused. Takes a few minutes (about 25 on two busy cores).
#   OUT=/path/to/busybox scripts/build-busybox.sh
set -euo pipefail

OUT=${OUT:-/var/cache/jetway/busybox/busybox-static-chpst}
if [ -x "$OUT" ] && "$OUT" --list | grep -qx chpst; then
  echo "$OUT"
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi
for tool in gcc make bzip2 xz patch; do
  command -v "$tool" >/dev/null 2>&1 || missing="${missing:-} $tool"
done
if [ -n "${missing:-}" ]; then
  $SUDO apt-get -o DPkg::Lock::Timeout=600 update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get -o DPkg::Lock::Timeout=600 install -y -qq build-essential bzip2 xz-utils patch >/dev/null
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
# Debian's source package through apt, with a deb-src list of its own (the system's lists untouched)
. /etc/os-release
mkdir -p srcparts lists/partial
cat > srcparts/src.sources <<SOURCES
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: ${VERSION_CODENAME}
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SOURCES
apt_opts=(-o Dir::Etc::SourceList=/dev/null -o Dir::Etc::SourceParts="$work/srcparts" -o Dir::State::Lists="$work/lists" -o APT::Sandbox::User=root)
apt-get "${apt_opts[@]}" update -qq
apt-get "${apt_opts[@]}" source --download-only -qq busybox
tar xjf busybox_*.orig.tar.bz2
src=$(find . -maxdepth 1 -type d -name 'busybox-*' | head -1)
tar xJf busybox_*.debian.tar.xz -C "$src"
cd "$src"
grep -v '^#' debian/patches/series | while read -r p; do [ -n "$p" ] && patch -p1 -s < "debian/patches/$p"; done
cp debian/config/pkg/static .config
sed -i 's/^# CONFIG_CHPST is not set/CONFIG_CHPST=y/' .config
yes "" | make oldconfig >/dev/null 2>&1 || true
grep -qx 'CONFIG_STATIC=y' .config
grep -qx 'CONFIG_CHPST=y' .config
nice -n 10 make -j"$(nproc)" >build.log 2>&1 || { tail -20 build.log >&2; exit 1; }
./busybox --list | grep -qx chpst
$SUDO mkdir -p "$(dirname "$OUT")"
$SUDO install -m 0755 busybox "$OUT"
echo "$OUT"
