#!/usr/bin/python3
"""alert-command tests: the real agent on a private session bus.

Run under dbus-run-session (meson does), with a python-dbusmock notification
server and GSettings' keyfile backend, like integration-test.py. The command
runs in a process group of its own: the 10 s limit kills the whole group,
and at most four groups with something alive in them run at once.
"""

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest

from testlib import QUIET_SETTINGS, eventually

import dbus

BUILD = os.environ.get("SMOOTHTASK_BUILDDIR", os.path.join(os.path.dirname(__file__), "..", "build"))
AGENT = os.path.join(BUILD, "src", "smoothtask")
SCHEMA_DIR = os.path.join(BUILD, "data")
NOTIFY_NAME = "org.freedesktop.Notifications"
COMMAND_LIMIT_S = 10

# Only per-process CPU alerts, low enough that busy shells sharing the
# machine's CPUs each raise one.
SETTINGS = dict(QUIET_SETTINGS, **{"process-cpu-threshold": "10.0"})


def processes():
    """(pid, pgid, state, argv) of every process."""
    out = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat") as f:
                stat = f.read()
            with open(f"/proc/{name}/cmdline", "rb") as f:
                argv = [a.decode(errors="replace") for a in f.read().split(b"\0") if a]
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        out.append((int(name), int(fields[2]), fields[0], argv))
    return out


class HooksTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="smoothtask-hooks-")
        os.chmod(self.tmp, 0o755)
        # Every command of a test carries this word ($0 of sh): what is left
        # of it is found, and killed in tearDown.
        self.marker = "st-hook-" + os.path.basename(self.tmp)
        self.env = dict(os.environ)
        self.env.update({
            "XDG_CONFIG_HOME": os.path.join(self.tmp, "config"),
            "XDG_DATA_HOME": os.path.join(self.tmp, "data"),
            "GSETTINGS_BACKEND": "keyfile",
            "GSETTINGS_SCHEMA_DIR": SCHEMA_DIR,
            "G_DEBUG": "fatal-criticals",
            "LC_ALL": "C.UTF-8",
        })
        self.children = []
        self.agent = None
        self.bus = dbus.SessionBus()
        self.mock = subprocess.Popen(
            [sys.executable, "-m", "dbusmock", "--template", "notification_daemon",
             "-p", json.dumps({"capabilities": "body actions"})],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.assertTrue(eventually(lambda: self.bus.name_has_owner(NOTIFY_NAME)))

    def tearDown(self):
        for child in self.children:
            if child.poll() is None:
                child.kill()
                child.wait()
        if self.agent is not None and self.agent.poll() is None:
            self.agent.kill()
            self.agent.wait()
        for pgid in {pg for _, pg, _, _ in self.marked()} | self.groups_of_naps():
            try:
                os.killpg(pgid, signal.SIGKILL)
            except OSError:
                pass
        self.mock.terminate()
        self.mock.wait()
        if getattr(self, "log", None) is not None:
            self.log.close()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def start_agent(self, command):
        path = os.path.join(self.tmp, "config", "glib-2.0", "settings")
        os.makedirs(path, exist_ok=True)
        with open(os.path.join(path, "keyfile"), "w") as f:
            f.write("[org/smoothtask/Agent]\n")
            for k, v in SETTINGS.items():
                f.write(f"{k}={v}\n")
            f.write("alert-command=%s\n" % json.dumps(command).replace('"', "'"))
        self.log_path = os.path.join(self.tmp, "agent.log")
        self.log = open(self.log_path, "w")
        self.agent = subprocess.Popen([AGENT, "--verbose"], env=self.env,
                                      stdout=self.log, stderr=subprocess.STDOUT)
        self.assertTrue(eventually(lambda: "watching with" in self.agent_log()),
                        "agent did not start:\n" + self.agent_log())

    def agent_log(self):
        with open(self.log_path) as f:
            return f.read()

    def start_busy(self, name):
        link = os.path.join(self.tmp, name)
        os.symlink("/bin/sh", link)
        child = subprocess.Popen([link, "-c", "while :; do :; done"])
        self.children.append(child)
        return child

    def groups_of_naps(self):
        nap = str(100000 + os.getpid())
        return {pg for _, pg, _, argv in processes() if argv[:2] == ["sleep", nap]}

    def marked(self):
        """Live processes in the groups of this test's commands."""
        procs = processes()
        groups = {pid for pid, _, state, argv in procs
                  if self.marker in argv and state != "Z"}
        return [p for p in procs if p[1] in groups and p[2] != "Z"]

    def test_limit_kills_the_whole_group(self):
        # The command's shell waits on one sleep and leaves another in the
        # background: both are in its group, both must go at the limit.
        self.start_agent(["sh", "-c", "sleep 1000 & sleep 1000", self.marker])
        self.start_busy("st-hook-busy")
        self.assertTrue(eventually(lambda: len(self.marked()) >= 3, timeout=10),
                        self.agent_log())
        started = time.monotonic()
        groups = {p[1] for p in self.marked()}
        self.assertTrue(eventually(lambda: "ran over 10 s; killed" in self.agent_log(),
                                   timeout=COMMAND_LIMIT_S + 5), self.agent_log())
        # Those groups are empty once the limit is over.
        left = eventually(lambda: not [p for p in processes()
                                       if p[1] in groups and p[2] != "Z"], timeout=3)
        self.assertTrue(left, [p for p in processes() if p[1] in groups])
        self.assertGreaterEqual(time.monotonic() - started, COMMAND_LIMIT_S - 3)
        self.assertIsNone(self.agent.poll())

    def test_background_leftover_counts_and_is_killed(self):
        # The command exits at once; what it left in the background keeps
        # its group alive until the limit.
        naptime = str(100000 + os.getpid())  # only this test's sleep has it
        self.start_agent(["sh", "-c", f"sleep {naptime} &", self.marker])
        self.start_busy("st-hook-bg")
        self.assertTrue(eventually(lambda: "st-hook-bg" in self.agent_log()
                                   and "alert-command for" in self.agent_log(), timeout=10),
                        self.agent_log())
        sleeps = eventually(lambda: [p for p in processes()
                                     if p[3][:2] == ["sleep", naptime]], timeout=5)
        self.assertTrue(sleeps)
        groups = {p[1] for p in sleeps}
        self.assertTrue(eventually(lambda: "killed what it left running" in self.agent_log(),
                                   timeout=COMMAND_LIMIT_S + 5), self.agent_log())
        self.assertTrue(eventually(lambda: not [p for p in processes()
                                                if p[1] in groups and p[2] != "Z"], timeout=3),
                        [p for p in processes() if p[1] in groups])
        # The sleep was in the command's group, not the agent's.
        self.assertNotIn(os.getpgid(self.agent.pid), groups)

    def test_at_most_four_at_once(self):
        started = os.path.join(self.tmp, "started")
        self.start_agent(["sh", "-c", f"echo $$ >> {started}; exec sleep 1000", self.marker])
        for i in range(6):
            self.start_busy(f"st-hook-many{i}")
        self.assertTrue(eventually(lambda: "not starting another" in self.agent_log(),
                                   timeout=12), self.agent_log())
        # The agent has spawned four when it refuses the fifth, but a shell
        # may not have written its pid yet: wait for the fourth line.
        def started_pids():
            try:
                with open(started) as f:
                    return f.read().split()
            except FileNotFoundError:
                return []
        eventually(lambda: len(started_pids()) >= 4, timeout=5)
        pids = started_pids()
        self.assertEqual(len(pids), 4, self.agent_log())
        self.assertLessEqual(len({p[1] for p in self.marked()}), 4)


if __name__ == "__main__":
    unittest.main(verbosity=2)
