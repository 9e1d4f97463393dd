#!/usr/bin/env bash
# Installs what the collection's commands need on a fresh Debian machine (run as root):
# Debian packages (Netdata's real agent as the reference, sshd for the lab fleet) and a
# .venv with the Python dependencies. Safe to run again: it skips what is already there.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
cd "$here"
profile="${1:-run}"   # run | test

apt_pkgs=(python3 python3-venv ca-certificates procps util-linux iproute2 lsb-release)
if [ "$profile" = test ]; then
  apt_pkgs+=(netdata openssh-server openssh-client chromium systemd-container debootstrap socat podman crun docker.io)
  apt_pkgs+=(redis-server)  # a real Redis fact cache for the report-from-cache tests (started by them)
fi

missing=()
for p in "${apt_pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "bootstrap: installing Debian packages: ${missing[*]}"
  # Installing netdata would start its daemon (in the machine's own network) unless
  # service starts are denied: keep or plant a policy-rc.d that refuses them.
  planted_policy=0
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
    chmod 0755 /usr/sbin/policy-rc.d
    planted_policy=1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  if [ "$planted_policy" = 1 ]; then rm -f /usr/sbin/policy-rc.d; fi
fi

py="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  echo "bootstrap: creating .venv"
  "$py" -m venv .venv
fi
reqs=(-r requirements.txt)
[ "$profile" = test ] && reqs=(-r requirements-dev.txt -r requirements-quality.txt)
stamp=".venv/.installed-$(sha256sum requirements.txt requirements-dev.txt requirements-quality.txt | sha256sum | cut -c1-16)-$profile"
if [ ! -e "$stamp" ]; then
  echo "bootstrap: installing Python packages: ${reqs[*]}"
  .venv/bin/pip install -q --disable-pip-version-check "${reqs[@]}"
  touch "$stamp"
fi

# Ansible finds collections only under an ansible_collections/<namespace>/<name> path:
# point one at this checkout so playbooks run from here use the working tree.
mkdir -p .build/collections/ansible_collections/netdata_fleet
ln -sfn "$here" .build/collections/ansible_collections/netdata_fleet/telemetry
