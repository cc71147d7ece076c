#!/bin/sh
# Install step for -Dfile-caps=true: gives the installed smoothtask-loader
# (never the agent) the two capabilities it needs to load the BPF programs;
# it drops them before it runs the agent (docs/bpf-setup.md, Privileges).
bin="$1"
if [ -n "${DESTDIR:-}" ]; then
    echo "WARNING: DESTDIR is set: not setting file capabilities on $bin;" \
         "the packager must run: setcap cap_bpf,cap_perfmon=ep $bin" >&2
    exit 0
fi
setcap=$(command -v setcap || echo /usr/sbin/setcap)
if [ ! -x "$setcap" ]; then
    echo "WARNING: setcap not found (package libcap2-bin): SmoothTask will use /proc" >&2
    exit 0
fi
if ! "$setcap" cap_bpf,cap_perfmon=ep "$bin"; then
    echo "WARNING: setcap failed on $bin (not root, or no xattr support):" \
         "SmoothTask will use /proc unless run as root" >&2
fi
exit 0
