#!/usr/bin/env bash
# Installs, from Debian's packages, what pcb's QEMU guests and tests need and a fresh machine may lack:
# QEMU, a kernel with modules, busybox for the guest's init, cpio, bindfs (a share without leases, TreeVersionsTest).
# Does nothing when all are present.
set -euo pipefail
needed=()
for pkg in maven qemu-system-x86 busybox-static linux-image-amd64 cpio bindfs; do
    dpkg -s "$pkg" >/dev/null 2>&1 || needed+=("$pkg")
done
(( ${#needed[@]} == 0 )) && exit 0

SUDO=()
if [[ "$(id -u)" != 0 ]]; then
    command -v sudo >/dev/null || { echo "pcb: need root (or sudo) to install: ${needed[*]}" >&2; exit 1; }
    SUDO=(sudo)
fi
echo "pcb: installing ${needed[*]} (apt-get)" >&2
export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" apt-get update -qq
"${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${needed[@]}" >&2
