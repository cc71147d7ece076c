"""testlib.py: what the Python suites (integration, hooks, notifier, shell)
share. Imported from the directory of the test script."""
import os
import sys
import time

# Every alert off but per-process CPU: nothing else on a shared CI machine
# may raise a notification. Suites override what they test.
QUIET_SETTINGS = {
    "sample-interval": "1",
    "sustain-seconds": "2",
    "cooldown-seconds": "0",
    "cpu-threshold": "100.0",
    "memory-threshold": "100.0",
    "memory-critical-threshold": "100.0",
    "process-memory-threshold": "100.0",
    "syscall-rate-threshold": "4294967295",
    "process-syscall-rate-threshold": "4294967295",
    "process-cpu-threshold": "50.0",
    "app-cpu-threshold": "100000.0",
    "app-memory-threshold": "100.0",
    "app-syscall-rate-threshold": "4294967295",
    "pressure-cpu-threshold": "0.0",
    "pressure-memory-threshold": "0.0",
    "pressure-io-threshold": "0.0",
    "disk-read-threshold": "0",
    "disk-write-threshold": "0",
    "network-threshold": "0",
    "process-disk-read-threshold": "0",
    "process-disk-write-threshold": "0",
    "process-network-threshold": "0",
    # cpu-threshold cannot go past 100, and a machine whose every CPU is busy
    # (other programs beside the suite) is at 100: mute the system figure, or
    # "High CPU load" is shown first and the test's own culprit joins it only
    # at the next meaningful update, a minute later.
    "snoozed": "{'cpu/system': int64 4102444800}",
}


def _cpu_ticks():
    """pid -> (comm, ppid, utime + stime, start time) of every process."""
    out = {}
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % pid) as f:
                stat = f.read()
        except OSError:
            continue
        comm = stat[stat.index("(") + 1:stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2:].split()
        out[int(pid)] = (comm, int(fields[1]), int(fields[11]) + int(fields[12]), fields[19])
    return out


def foreign_busy_names(percent=10.0, seconds=0.5):
    """Kernel names (comm) of the busy processes that are not this test's (a
    build, stress-ng, another suite on the same machine). The agent makes one
    CPU notification, about the top consumer: the suites ignore these so that
    it names the test's own busy child."""
    before = _cpu_ticks()
    time.sleep(seconds)
    after = _cpu_ticks()
    ours = {os.getpid()}
    grew = True
    while grew:
        grew = False
        for pid, (_, ppid, _, _) in after.items():
            if ppid in ours and pid not in ours:
                ours.add(pid)
                grew = True
    # Never a name of the test's own children (display name or comm).
    own = {"sh", "dash", "bash", os.path.basename(sys.executable),
           os.path.basename(os.path.realpath(sys.executable))}
    names = set()
    hz = os.sysconf("SC_CLK_TCK")
    for pid, (comm, _, ticks, start) in after.items():
        if pid in ours or pid not in before or before[pid][3] != start:
            continue
        if comm in own or comm.startswith("st-") or "'" in comm or "\\" in comm:
            continue
        if (ticks - before[pid][2]) * 100.0 / hz / seconds >= percent:
            names.add(comm)
    return sorted(names)


def gvariant_strings(names):
    return "[" + ", ".join("'%s'" % n for n in names) + "]"


def eventually(cond, timeout=10.0, interval=0.1):
    """cond()'s first true value within timeout, else its last value."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = cond()
        if value:
            return value
        time.sleep(interval)
    return cond()
