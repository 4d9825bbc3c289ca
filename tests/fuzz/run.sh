#!/usr/bin/env bash
# tests/fuzz/run.sh BUILD_DIR TARGET [SECONDS]: what scripts/test's fuzzing
# step does for one target. First every file of tests/fuzz/regressions/TARGET
# is run once; then the target fuzzes for SECONDS (default
# $ATRIUM_FUZZ_SECONDS or 30) from a temporary copy of its seed corpus
# (tests/fuzz/corpus is never written). A crash, sanitizer report, leak or
# failed invariant fails (exit 1) and names the reproducer, which is kept
# in $ATRIUM_FUZZ_ARTIFACTS (default: a folder under /tmp) with the log.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
build=$1 target=$2 secs=${3:-${ATRIUM_FUZZ_SECONDS:-30}}
case $build in /*) ;; *) build="$root/$build" ;; esac
bin="$build/tests/fuzz/$target"
[ -x "$bin" ] || { echo "no fuzz target $bin (build with -Dfuzz=true)"; exit 1; }
dict=
case $target in
  fuzz_bearer) dict="$root/tests/fuzz/dict/jwt.dict" ;;
  fuzz_json_body|fuzz_quickbooks|fuzz_pax8|fuzz_idempotency_key|fuzz_cable_plan) dict="$root/tests/fuzz/dict/json.dict" ;;
esac
art=${ATRIUM_FUZZ_ARTIFACTS:-$(mktemp -d "${TMPDIR:-/tmp}/atrium-fuzz.XXXXXX")}
mkdir -p "$art"
export ASAN_OPTIONS=${FUZZ_ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:halt_on_error=1}
export UBSAN_OPTIONS=${FUZZ_UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

# 1. Regression inputs, one at a time.
regs=()
if [ -d "$root/tests/fuzz/regressions/$target" ]; then
  while IFS= read -r -d '' f; do regs+=("$f"); done < <(find "$root/tests/fuzz/regressions/$target" -type f ! -name '.*' ! -name '*.md' -print0 | sort -z)
fi
for f in "${regs[@]}"; do
  if ! "$bin" -timeout=10 -rss_limit_mb=2048 "$f" >"$art/$target-regression.log" 2>&1; then
    echo "$target: regression input failed: $f"
    grep -E 'ERROR|runtime error|invariant failed|SUMMARY' "$art/$target-regression.log" | head -n 20 || true
    tail -n 40 "$art/$target-regression.log"
    echo "reproduce: $bin $f"
    exit 1
  fi
done

# 2. Bounded fuzzing from a copy of the seed corpus.
corpus="$art/$target-corpus"
rm -rf "$corpus"
mkdir -p "$corpus"
if [ -d "$root/tests/fuzz/corpus/$target" ]; then cp -R "$root/tests/fuzz/corpus/$target/." "$corpus/"; fi
log="$art/$target.log"
args=(-max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1
      -artifact_prefix="$art/$target-")
[ -n "$dict" ] && args+=(-dict="$dict")
rc=0
(cd "$art" && "$bin" "${args[@]}" "$corpus") >"$log" 2>&1 || rc=$?
execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
eps=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
cov=$(grep -oE 'cov: [0-9]+' "$log" | tail -n 1 || true)
if [ "$rc" -ne 0 ]; then
  echo "$target: FAILED after fuzzing (exit $rc)"
  grep -E 'ERROR|runtime error|invariant failed|SUMMARY' "$log" | head -n 20 || true
  tail -n 40 "$log"
  crash=$(ls -t "$art/$target-"{crash,leak,timeout,oom}-* 2>/dev/null | head -n 1 || true)
  echo "reproducer: ${crash:-(none written)}"
  [ -n "$crash" ] && echo "reproduce: $bin $crash" && echo "keep it: cp $crash $root/tests/fuzz/regressions/$target/"
  exit 1
fi
echo "$target: ${#regs[@]} regression input(s) ok; ${secs}s: ${execs:-?} runs, ${eps:-?} exec/s, ${cov:-cov: ?}"
