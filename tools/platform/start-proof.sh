#!/usr/bin/env bash
# Proof that the start command starts: `npm start -- --once` FRESH times from a clean state directory
# (.pinflow removed, development keys included), then REUSED times on the state the last run left.
# Prints one line per run and a summary; exits non-zero when any run failed (its output and service
# logs are kept).
# usage: start-proof.sh [FRESH=5] [REUSED=3]   (honours PINFLOW_BASE_PORT like npm start)
set -uo pipefail
cd "$(dirname "$0")/../.."
fresh=${1:-5} reused=${2:-3}
logs=$(mktemp -d "${TMPDIR:-/tmp}/pinflow-start-proof.XXXXXX")
node tools/build.mjs || exit 1
failed=0 run=0

attempt() {
  local kind=$1 log started seconds result
  run=$((run + 1)); log="$logs/run-$run-$kind.log"; started=$EPOCHREALTIME
  if npm start --silent -- --once >"$log" 2>&1; then result=green; else result=FAILED; failed=$((failed + 1)); fi
  seconds=$(awk "BEGIN { printf \"%.1f\", $EPOCHREALTIME - $started }")
  echo "run $run ($kind .pinflow): $result in $seconds s"
  [ "$result" = green ] && return
  tail -n 30 "$log" | sed 's/^/    /'
  cp -r .pinflow/logs "$logs/run-$run-service-logs" 2>/dev/null
}

for _ in $(seq 1 "$fresh"); do rm -rf .pinflow; attempt clean; done
for _ in $(seq 1 "$reused"); do attempt reused; done
echo "$((run - failed)) of $run runs green (logs in $logs)"
[ "$failed" -eq 0 ]
