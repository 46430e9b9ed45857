#!/usr/bin/env bash
# System packages the orchestrator and its tests need, from Debian. Idempotent: installs only
# what is missing. Asterisk itself is not here: `orchestrator asterisk up` uses a system
# Asterisk 22 if there is one, else debootstraps Debian sid with Asterisk 22 into a cache folder.
set -euo pipefail

need=()
command -v sipp >/dev/null || need+=(sip-tester)            # callers and destinations in tests
command -v redis-server >/dev/null || need+=(redis-server)  # live state (tests start their own)
command -v faketime >/dev/null || need+=(faketime)          # moves Asterisk's clock in tests
command -v sox >/dev/null || need+=(sox)                    # converts announcements
command -v debootstrap >/dev/null || need+=(debootstrap)    # gets Asterisk 22 from Debian sid
command -v espeak-ng >/dev/null || need+=(espeak-ng)        # Dutch tariff prompts (090x)
dpkg -s libsox-fmt-mp3 >/dev/null 2>&1 || need+=(libsox-fmt-mp3)  # MP3 announcements (sox)
command -v ss >/dev/null || need+=(iproute2)
command -v kamailio >/dev/null || need+=(kamailio)          # the cluster's SIP front door (dispatcher)
command -v iptables >/dev/null || need+=(iptables)          # the cluster test cuts a node's AMI in its namespace
command -v systemd-analyze >/dev/null || need+=(systemd)    # checks the generated service units
# PostgreSQL: the tests start their own throw-away server from these binaries (tests/harness/postgres.py);
# Debian keeps initdb/pg_ctl in /usr/lib/postgresql/<version>/bin, not on PATH.
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
# Containers (deploy/containers, tests/e2e/test_containers.py): podman, and runc for machines
# with cgroup v1+v2 mounted together, where crun refuses to start containers.
command -v podman >/dev/null || need+=(podman)
command -v runc >/dev/null || need+=(runc)

if [ ${#need[@]} -eq 0 ]; then
  exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "installing system packages: ${need[*]}" >&2
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
