#!/usr/bin/env bash
# Install the Debian packages the lab and the venv need, only those missing.
# Idempotent: with everything present it runs no apt at all.
set -euo pipefail

packages=(
  # the lab's hypervisors (shared/lab-notes.md)
  libvirt-daemon libvirt-daemon-driver-qemu libvirt-clients qemu-system-x86 qemu-utils
  # virt-xml-validate (libvirt-clients, unit tests) runs xmllint, only a Recommends of libvirt-clients
  libxml2-utils
  # pkill, in the drain's integration test (Priority important: a minimal Debian lacks it)
  procps
  # the lab's network: namespaces, veth pairs, its bridge (ip) and the links' shaping (tc)
  iproute2
  # each lab host's sshd (the controller reaches hosts over qemu+ssh, as a fleet's does); ssh, ssh-keygen
  openssh-server openssh-client
  # the lab's CA and certificates for `lab up --transport tls` (qemu+tls); Priority optional in Debian
  openssl
  # libvirt-python is a source distribution built against these
  libvirt-dev pkg-config gcc python3-dev python3-venv
  # used by the Makefile to stage the collection for ansible-test, and by its shellcheck test
  git tar shellcheck
  # the fleet state store's PostgreSQL for tests and benchmarks (lab/postgres runs a cluster of its own)
  postgresql
)

missing=()
for pkg in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "missing Debian packages: ${missing[*]}; run as root or: sudo apt-get install ${missing[*]}" >&2
  exit 1
fi
echo "installing Debian packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
