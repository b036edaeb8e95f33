#!/usr/bin/env bash
# The nested-lab stage (design.md §5): real VFIO, IOMMUFD, SR-IOV and a vIOMMU on this machine.
# Builds the L1 image (cached by its inputs), boots two L1 hosts, runs the nested-lab and
# provisioning tests on them, then the suites on labs/nested.yaml; the lab is taken down however
# it ends. Needs root; about 10 minutes cold, 3 warm.
set -uo pipefail
cd "$(dirname "$0")/.."
export HIL_NESTED_LAB=1

status=0
npx mocha --no-config --timeout 1800000 --enable-source-maps --reporter dist/harness/mocha/SpecWithSummary.js \
  'dist/harness/nested-lab/**/*.test.js' 'dist/harness/host/**/*.nested.lab.test.js' || status=1

node bin/hil.js --lab labs/nested.yaml lab up --no-preflight || exit 2
trap 'node bin/hil.js --lab labs/nested.yaml lab down' EXIT
node bin/hil.js --lab labs/nested.yaml run suites || status=1
exit "$status"
