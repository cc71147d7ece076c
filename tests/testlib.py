"""testlib.py: what the Python suites (integration, hooks, notifier, shell)
share. Imported from the directory of the test script."""
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
}


def eventually(cond, timeout=10.0, interval=0.1):
    """cond()'s first true value within timeout, else its last value."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = cond()
        if value:
            return value
        time.sleep(interval)
    return cond()
