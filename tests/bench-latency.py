#!/usr/bin/python3
"""Alert latency: a busy child's start to the Notify call on a dbusmock
server. Run under dbus-run-session. usage: bench-latency.py BUILD SUSTAIN RUNS
Prints one latency in seconds per run."""
import os
import shutil
import subprocess
import sys
import tempfile
import time

import dbus
import dbusmock

build, sustain, runs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
bus = dbus.SessionBus()
mock = subprocess.Popen([sys.executable, "-m", "dbusmock", "--template", "notification_daemon"],
                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
while not bus.name_has_owner("org.freedesktop.Notifications"):
    time.sleep(0.05)
iface = dbus.Interface(bus.get_object("org.freedesktop.Notifications",
                                      "/org/freedesktop/Notifications"), dbusmock.MOCK_IFACE)
tmp = tempfile.mkdtemp(prefix="st-latency-")
conf = os.path.join(tmp, "glib-2.0", "settings")
os.makedirs(conf)
with open(os.path.join(conf, "keyfile"), "w") as f:
    f.write("[org/smoothtask/Agent]\nsample-interval=1\nsustain-seconds=%d\ncooldown-seconds=0\n"
            "process-cpu-threshold=50.0\ncpu-threshold=100.0\nmemory-threshold=100.0\n"
            "memory-critical-threshold=100.0\nprocess-memory-threshold=100.0\n"
            "syscall-rate-threshold=4294967295\nprocess-syscall-rate-threshold=4294967295\n"
            "app-cpu-threshold=100000.0\npressure-cpu-threshold=0.0\n"
            "pressure-memory-threshold=0.0\npressure-io-threshold=0.0\n" % sustain)
env = dict(os.environ, GSETTINGS_BACKEND="keyfile", XDG_CONFIG_HOME=tmp,
           GSETTINGS_SCHEMA_DIR=os.path.join(build, "data"))
agent = subprocess.Popen([os.path.join(build, "src", "smoothtask")], env=env,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
time.sleep(2)
out = []
try:
    for i in range(runs):
        link = os.path.join(tmp, "st-latency-%d" % i)
        os.symlink("/bin/sh", link)
        iface.ClearCalls()
        t0 = time.monotonic()
        child = subprocess.Popen([link, "-c", "while :; do :; done"])
        while time.monotonic() - t0 < 30:
            if any(m == "Notify" and ("pid %d" % child.pid) in str(a[4])
                   for _, m, a in iface.GetCalls()):
                out.append(time.monotonic() - t0)
                break
            time.sleep(0.02)
        child.kill()
        child.wait()
        time.sleep(2)
finally:
    agent.terminate()
    agent.wait()
    mock.terminate()
    mock.wait()
    shutil.rmtree(tmp, ignore_errors=True)
print(" ".join("%.2f" % x for x in out))
sys.exit(0 if out else 1)
