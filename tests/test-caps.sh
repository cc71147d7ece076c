#!/bin/bash
# The installed agent with file capabilities, run as nobody: it must load BPF
# and then hold no capability at all. TAP output.
set -u
build=$1
if [ "$(id -u)" -ne 0 ]; then echo "1..0 # SKIP needs root to set file capabilities"; exit 0; fi
for tool in setcap setpriv; do
    command -v $tool >/dev/null || { echo "1..0 # SKIP $tool is not installed"; exit 0; }
done
dest=$(mktemp -d /tmp/smoothtask-caps.XXXXXX)
chmod 755 "$dest"
pid=
trap '[ -n "$pid" ] && kill -9 $pid 2>/dev/null; rm -rf "$dest"' EXIT
DESTDIR="$dest" meson install -C "$build" --no-rebuild --quiet >/dev/null 2>&1 || { echo "1..1"; echo "not ok 1 - meson install"; exit 1; }
bin=$(find "$dest" -path '*/bin/smoothtask')
schemas=$(dirname "$(find "$dest" -name 'org.smoothtask.Agent.gschema.xml')")
glib-compile-schemas "$schemas"
# The same step `meson install -Dfile-caps=true` runs, without DESTDIR.
env -u DESTDIR "$(dirname "$0")/../build-aux/setcap.sh" "$bin" 2>"$dest/setcap.err"
if ! getcap "$bin" | grep -q cap_bpf; then
    echo "1..0 # SKIP setcap did not apply here: $(cat "$dest/setcap.err")"
    exit 0
fi
# File capabilities make the kernel set AT_SECURE, and GLib then ignores
# GSETTINGS_SCHEMA_DIR and DBUS_SESSION_BUS_ADDRESS, as for setuid programs:
# the schema is found through XDG_DATA_DIRS and the bus at
# $XDG_RUNTIME_DIR/bus, as in a real session. docs/bpf-setup.md says more.
log="$dest/agent.log"
touch "$log"; chmod 666 "$log"
setpriv --reuid=65534 --regid=65534 --clear-groups \
    env GSETTINGS_BACKEND=memory XDG_DATA_DIRS="$(dirname "$(dirname "$schemas")")" HOME="$dest" \
        DBUS_SESSION_BUS_ADDRESS="unix:path=$dest/no-bus" "$bin" --verbose >"$log" 2>&1 &
pid=$!
for _ in $(seq 50); do grep -q "watching with" "$log" && break; sleep 0.1; done
n=0; fails=0
t() { n=$((n + 1)); if eval "$2"; then echo "ok $n - $1"; else echo "not ok $n - $1"; fails=$((fails + 1)); fi; }
t "agent started" 'grep -q "watching with" "$log"'
t "BPF backend in use as nobody" 'grep -q "watching with the bpf backend" "$log"'
status=/proc/$pid/status
t "runs as uid 65534" 'grep -Eq "^Uid:\s+65534" $status'
sleep 2.5
# Every thread: capset() drops for the calling thread only, so the bus,
# dconf and notifier threads must start after the drop.
threads=$(ls /proc/$pid/task | wc -l)
t "several threads to check ($threads)" '[ "$threads" -gt 1 ]'
for cap in CapEff CapPrm CapInh CapAmb; do
    t "$cap is zero in every thread" '! grep -HE "^$cap:" /proc/$pid/task/*/status | grep -vE ":\s+0+$"'
done
# What it starts (the system monitor, an alert-command) may gain privileges.
t "no_new_privs is not set" 'grep -Eq "^NoNewPrivs:\s+0" $status' 
t "still sampling after the drop" 'kill -0 $pid && ! grep -q "Sample failed" "$log"'
kill -TERM $pid
wait $pid; code=$?; pid=
t "clean exit on SIGTERM" '[ $code -eq 0 ]'
# Least exposure: no more of other users' processes than /proc shows.
dump() {
    setpriv --reuid=65534 --regid=65534 --clear-groups "$bin" --dump --json --top 0 \
        --interval 0.3 --backend bpf 2>/dev/null
}
others_rates='import json,sys; d=json.load(sys.stdin); o=[p for p in d["processes"] if p["uid"]!=65534]; sys.exit(0 if o and all(p["syscalls_per_s"] is None for p in o) else 1)'
t "others' processes listed, without syscall rates" 'dump | /usr/bin/python3 -c "$others_rates"'
if command -v unshare >/dev/null; then
    only_mine='import json,sys; d=json.load(sys.stdin); u={p["uid"] for p in d["processes"]}; sys.exit(0 if u=={65534} else 1)'
    hidden="mount -t proc -o hidepid=invisible proc /proc && setpriv --reuid=65534 --regid=65534 --clear-groups $bin --dump --json --top 0 --interval 0.3 --backend bpf"
    t "hidepid=invisible: only its own processes" 'unshare -m sh -c "$hidden" 2>/dev/null | /usr/bin/python3 -c "$only_mine"'
fi
echo "1..$n"
[ $fails -eq 0 ] || sed 's/^/# /' "$log"
exit $((fails > 0))
