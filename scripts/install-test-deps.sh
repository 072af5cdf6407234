#!/usr/bin/env bash
# Installs what the test suite needs on a fresh Debian machine. Idempotent: it only calls
# apt-get when a tool is missing, so it is cheap to run before every test run.
set -euo pipefail

# tool -> Debian package
declare -A needs=(
  [git]=git
  [docker-registry]=docker-registry   # test/support/registry.ts: a real OCI registry
  [htpasswd]=apache2-utils            # test/support/registry.ts: htpasswd auth for it
  [openssl]=openssl                   # test/support/registry.ts: the token server's certificate
  [runc]=runc                         # test/kube-sim/kubelet: containers run for real
  [setcap]=libcap2-bin                # test/containers/teams.test.ts: file capabilities in a team's image copy
  [newuidmap]=uidmap                  # test/containers/rootless.test.ts: rootless containers' id mappings
  [chromium]=chromium                 # test/browser/ui.test.ts: the web UI in a real browser (npm run test:browser)
)

missing=()
for tool in "${!needs[@]}"; do
  command -v "$tool" >/dev/null 2>&1 || missing+=("${needs[$tool]}")
done

# The test images need the static busybox (a dynamic one from the `busybox` package cannot run
# inside them), so this one is checked by package, not by command.
dpkg -s busybox-static >/dev/null 2>&1 || missing+=(busybox-static)

if [ ${#missing[@]} -gt 0 ]; then
  echo "installing test dependencies: ${missing[*]}"
  if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi
  # another apt-get (an unattended upgrade, a concurrent run) may hold dpkg's lock: wait for it
  # rather than fail, up to 10 minutes
  $SUDO apt-get -o DPkg::Lock::Timeout=600 update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get -o DPkg::Lock::Timeout=600 install -y -qq "${missing[@]}" >/dev/null
fi

# test/containers/rootless.test.ts runs the container runtime as a user that is not root, with a
# subordinate id range for 63 teams (what a rootless web node's user needs; docs/local-containers.md)
if [ "$(id -u)" -eq 0 ]; then
  id jetway-rootless >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin jetway-rootless
  grep -q '^jetway-rootless:' /etc/subuid 2>/dev/null || usermod --add-subuids 500000000-504194303 jetway-rootless
  grep -q '^jetway-rootless:' /etc/subgid 2>/dev/null || usermod --add-subgids 500000000-504194303 jetway-rootless
  # test/containers/concourse-fixtures.test.ts: mock's mirror_self image mirrors the host's users,
  # and Concourse's nonroot-chowning checks run as `nonroot` (its mock image has one)
  id nonroot >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin nonroot
fi
