#!/bin/sh
# Runs one libFuzzer target for a few seconds on a copy of its seed corpus.
# Prints the executions; fails on a crash, a leak or undefined behaviour.
exe=$1
seeds=$2
secs=${3:-10}
work=$(mktemp -d /tmp/smoothtask-fuzz.XXXXXX)
trap 'rm -rf "$work"' EXIT
cp -r "$seeds"/. "$work"/ 2>/dev/null
UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
    "$exe" -max_total_time="$secs" -error_exitcode=1 -print_final_stats=1 -artifact_prefix="$work/" "$work" \
    >"$work/log" 2>&1
status=$?
grep -E "^Done [0-9]+ runs|stat::number_of_executed_units" "$work/log"
if [ $status -ne 0 ]; then
    tail -40 "$work/log"
    ls "$work"/crash-* "$work"/leak-* 2>/dev/null | while read -r f; do
        echo "input: $(od -An -tx1 "$f" | tr -d '\n' | cut -c1-400)"
    done
fi
exit $status
