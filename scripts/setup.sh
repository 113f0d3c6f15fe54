#!/usr/bin/env bash
# Installs everything esxkit's tests and demo need on Debian, idempotently:
#   - Debian packages (apt-get): the govmomi simulator's Go source and toolchain, the real
#     IPMI clients and servers, tshark, iproute2;
#   - npm packages (npm ci), which include the Bun runtime (npm package `bun`);
#   - the vCenter/ESXi simulator program under test/vcsim (built once into .cache/).
# Nothing is downloaded from anywhere but Debian's mirrors and the npm registry.
set -euo pipefail
cd "$(dirname "$0")/.."

DEBIAN_PACKAGES=(
  golang-go golang-github-vmware-govmomi-dev   # the vim25 simulator (test/vcsim)
  ipmitool freeipmi-tools python3-pyghmi fence-agents openipmi   # real IPMI clients and BMCs
  tshark                                       # wire validation (IPMI/RMCP+, SLP dissectors)
  iproute2 util-linux openssl procps           # network namespaces, unshare, test certificates, ps
  iputils-ping                                 # the watchdog's ICMP isolation probe
  socat                                        # Ironic's console pattern (socat + ipmitool sol)
  python3-sushy redfishtool python3-ironic     # real Redfish clients: Ironic's library, its driver, redfishtool
  systemd                                      # systemd-analyze verify/security on the shipped unit
  python3-seccomp                              # the unit's SystemCallFilter= emulated in tests (libseccomp)
)

missing=()
for p in "${DEBIAN_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  echo "setup: installing Debian packages: ${missing[*]}" >&2
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

if [ ! -x node_modules/.bin/bun ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "setup: installing npm packages" >&2
  npm ci --no-audit --no-fund --loglevel=error
fi

bash scripts/build-vcsim.sh
