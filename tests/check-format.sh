#!/bin/sh
# Fails when a C file does not follow .clang-format. Fix with:
#   clang-format -i src/*.[ch] bpf/*.[ch] tests/*.c
cd "$1" || exit 1
if ! command -v clang-format >/dev/null 2>&1; then
    echo "clang-format is not installed: cannot check formatting"
    exit 77
fi
status=0
for f in src/*.c src/*.h bpf/*.c bpf/*.h tests/*.c; do
    [ -e "$f" ] || continue
    if ! clang-format --dry-run --Werror "$f" >/dev/null 2>&1; then
        echo "not formatted: $f"
        status=1
    fi
done
exit $status
