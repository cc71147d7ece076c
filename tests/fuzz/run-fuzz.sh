#!/bin/sh
# run-fuzz.sh EXE SEEDS [SECONDS]: runs one libFuzzer target for a few
# seconds on a copy of its seed corpus (the repository's is left alone).
# Prints libFuzzer's "Done N runs" line. Exits 1 on a crash, a leak, undefined
# behaviour or a hang, printing the report and the input in hex, and keeps
# its work directory then. Never exits 77: a failure is not a skip.
exe=$1
seeds=$2
secs=${3:-10}
work=$(mktemp -d "${TMPDIR:-/tmp}/smoothtask-fuzz.XXXXXX") || exit 1
mkdir "$work/corpus" && cp -R "$seeds"/. "$work/corpus/" || exit 1

ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1} \
UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 G_DEBUG=fatal-criticals \
    "$exe" -max_total_time="$secs" -timeout=10 -error_exitcode=1 -timeout_exitcode=1 \
    -print_final_stats=1 -artifact_prefix="$work/" "$work/corpus" >"$work/log" 2>&1
status=$?

grep -E '^Done [0-9]+ runs' "$work/log" || grep -E '^stat::number_of_executed_units' "$work/log"
if [ $status -eq 0 ] &&
    ! grep -qE 'ERROR: [A-Za-z]+Sanitizer|runtime error:|ERROR: libFuzzer' "$work/log"; then
    rm -rf "$work"
    exit 0
fi
grep -vE '^#[0-9]+ ' "$work/log" | tail -n 60
for f in "$work"/crash-* "$work"/leak-* "$work"/timeout-* "$work"/oom-*; do
    [ -f "$f" ] && echo "input $(basename "$f"): $(od -An -v -tx1 "$f" | tr -d ' \n')"
done
echo "exit status $status; log and input kept in $work"
exit 1
