#!/usr/bin/env bash
# Installs what the local runtime's containers need on a Debian machine: runc (the web node runs
# every step in a runc container from its image when it is root and runc is there; otherwise it
# runs host processes and says so in one line; docs/local-containers.md), and getcap/setcap
# (libcap2-bin: file capabilities kept in a team's copy of an image). Idempotent: apt-get only
# runs when one is missing, so the quickstart can call it every time.
set -euo pipefail

have_runc() { command -v runc >/dev/null 2>&1 || [ -x /usr/sbin/runc ]; }
have_setcap() { command -v setcap >/dev/null 2>&1 || [ -x /usr/sbin/setcap ] || [ -x /sbin/setcap ]; }
if have_runc && have_setcap; then exit 0; fi
if [ "$(id -u)" -ne 0 ]; then
  have_runc && exit 0
  # containers need a root web node anyway (rootless is not supported yet): nothing to install
  echo "runc is not installed; as a user other than root the local runtime runs host processes (install runc and run as root for containers)"
  exit 0
fi
echo "installing runc and libcap2-bin for the local runtime's containers"
apt-get -o DPkg::Lock::Timeout=600 update -qq
DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq runc libcap2-bin >/dev/null
