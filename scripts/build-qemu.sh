#!/usr/bin/env bash
# The nested lab's QEMU source builds, for CI's nested stage before its runs: qemu-series-nofix
# (Debian 10.2.2 + the vIOMMU series without 0027) and then qemu-series (the same + 0027), which is
# made from the first one's tree. Cached by their inputs under the lab's cacheDir
# (/var/cache/vfio-hil): on a warm machine this returns at once. `hil run` would build them too;
# building first keeps the compile out of the timed runs and shows its progress on its own.
set -euo pipefail
cd "$(dirname "$0")/.."
lab="${1:-labs/nested.yaml}"   # the lab file whose builds to make
node bin/hil.js --lab "$lab" qemu build qemu-series-nofix qemu-series
