#!/usr/bin/env bash
# The test command (README, CI): build, bring the virtual lab up, run the unit and lab tests, then
# run the suites on the lab through `hil run`, held against expect/virtual.yaml (every test named with
# the outcome this lab gives). The lab is taken down however it ends.
set -uo pipefail
cd "$(dirname "$0")/.."

npm run build || exit 2
node bin/hil.js lab up --no-preflight || exit 2
trap 'node bin/hil.js lab down' EXIT

status=0
npx mocha || status=1
node bin/hil.js run suites --expect expect/virtual.yaml || status=1
exit "$status"
