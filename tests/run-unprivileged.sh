#!/bin/sh
# Runs a test as nobody, without any capability, so that it exercises the
# /proc fallback. Prints a TAP skip when that is impossible here.
if [ "$(id -u)" -ne 0 ]; then
    echo "1..0 # SKIP already unprivileged: the normal run covers this"
    exit 0
fi
if ! command -v setpriv >/dev/null 2>&1; then
    echo "1..0 # SKIP setpriv (util-linux) is not installed"
    exit 0
fi
exec setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all --bounding-set=-all "$@"
