#!/usr/bin/env bash
# Installs what the local runtime's containers need on a Debian machine: runc, getcap/setcap
# (libcap2-bin: file capabilities kept in a team's copy of an image), and uidmap
# (newuidmap/newgidmap) for a web node that is not root (rootless containers need them and a
# subordinate id range in /etc/subuid and /etc/subgid; docs/local-containers.md). Without them the
# web node runs host processes and says why in one line. Idempotent: apt-get only runs when
# something is missing, so the quickstart can call it every time.
set -euo pipefail

missing=()
command -v runc >/dev/null 2>&1 || [ -x /usr/sbin/runc ] || missing+=(runc)
command -v setcap >/dev/null 2>&1 || [ -x /usr/sbin/setcap ] || [ -x /sbin/setcap ] || missing+=(libcap2-bin)
command -v newuidmap >/dev/null 2>&1 || [ -x /usr/bin/newuidmap ] || missing+=(uidmap)
if [ ${#missing[@]} -eq 0 ]; then exit 0; fi
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then SUDO=sudo; else
    echo "missing ${missing[*]}: install them as root (apt-get install ${missing[*]}); until then the local runtime runs host processes"
    exit 0
  fi
else
  SUDO=
fi
echo "installing ${missing[*]} for the local runtime's containers"
# another apt-get may hold dpkg's lock: wait for it rather than fail, up to 10 minutes
$SUDO apt-get -o DPkg::Lock::Timeout=600 update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get -o DPkg::Lock::Timeout=600 install -y -qq "${missing[@]}" >/dev/null
