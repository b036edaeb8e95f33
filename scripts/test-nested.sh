#!/usr/bin/env bash
# The nested-lab stage (design.md §5): real VFIO, IOMMUFD, SR-IOV and a vIOMMU on this machine.
# Builds the L1 image and the QEMU source builds (both cached by their inputs under the lab's
# cacheDir), runs the nested-lab and provisioning tests, then boots one L1 pair for every run:
# the suites on QEMU 10.0, the VFIO ones again on 11.1, and the patch-7 reproduction on the two
# 10.2.2 source builds (with and without its fix). Every run is held against an expectation file
# naming each test and the outcome or verdict it must give on that build; any difference, FAIL,
# lab ERROR or FLAKY test fails the stage. The lab is taken down however it ends. Needs root.
set -uo pipefail
cd "$(dirname "$0")/.."
export HIL_NESTED_LAB=1
lab=labs/nested.yaml

timed() {
  local name=$1; shift
  local started=$SECONDS
  echo "--- nested: ${name}"
  "$@"
  local rc=$?
  echo "--- nested: ${name}: exit ${rc}, $((SECONDS - started)) s"
  return "$rc"
}

status=0
timed "nested-lab and provisioning tests" npx mocha --no-config --timeout 1800000 --enable-source-maps \
  --reporter dist/harness/mocha/SpecWithSummary.js \
  'dist/harness/nested-lab/**/*.test.js' 'dist/harness/host/**/*.nested.lab.test.js' || status=1
timed "QEMU source builds" bash scripts/build-qemu.sh "$lab" || exit 2

trap 'node bin/hil.js --lab "$lab" lab down' EXIT
node bin/hil.js --lab "$lab" lab down >/dev/null
timed "lab up" node bin/hil.js --lab "$lab" lab up --no-preflight || exit 2

# --retries 1: a test whose attempt was a lab ERROR runs once more so its report shows whether the
# error comes back; a pass on the second attempt is FLAKY and, with --max-flaky 0, still fails the
# run. A guest that fails to boot with its device is diagnosed by a control boot without the
# device and vIOMMU (the product's FAIL when the control boots, the lab's ERROR when it does not).
run() {
  local name=$1; shift
  timed "$name" node bin/hil.js --lab "$lab" run --retries 1 --max-flaky 0 "$@" || status=1
}
run "suites on QEMU 10.0.13" --expect expect/nested-qemu10.yaml \
  suites/admission suites/migration suites/failure suites/blocked-domain suites/bugs suites/mixed-backends.spec.ts
# QEMU 11.1.3 has "vfio: relax the vIOMMU check": the admission matrix, the VFIO migrations and the
# bug reproductions give their post-series verdicts.
run "VFIO suites on QEMU 11.1.3" --qemu qemu-11 --expect expect/nested-qemu11.yaml \
  suites/admission suites/migration/backends.spec.ts suites/failure/vfio-device.spec.ts \
  suites/blocked-domain/host-vfio.spec.ts suites/bugs
# Patch 7's positive control: the series without its fix must give REPRODUCED, with it FIXED.
run "patch 7 on 10.2.2 + the series without 0027" --qemu qemu-series-nofix \
  --expect expect/nested-series-nofix.yaml --bug vtd-blocked-domain-unmap
run "patch 7 on 10.2.2 + the series" --qemu qemu-series \
  --expect expect/nested-series.yaml --bug vtd-blocked-domain-unmap
exit "$status"
