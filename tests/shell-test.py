#!/usr/bin/python3
"""SmoothTask against real notification servers: what the user sees.

Two servers, each on its own private session bus (a dbus-daemon this script
starts and stops, as dbus-run-session does; meson runs the whole script under
dbus-run-session as well, so nothing can reach a desktop's bus):

  GnomeShellTest  GNOME Shell 43, headless (--headless --wayland --no-x11
                  --virtual-monitor 1280x800 --unsafe-mode), with a private
                  "system" bus and a python-dbusmock logind. It is counted
                  through the shell itself: org.gnome.Shell.Eval every 100 ms
                  reads the banner state (Main.messageTray._notificationState)
                  and the message list (Main.messageTray.getSources()); a
                  virtual pointer moves every 0.4 s so that the shell treats
                  the user as active (an idle user's banners never hide).
  DunstTest       dunst under Xvfb, counted by dunst (its displayed, waiting
                  and history counts every 100 ms, `dunstctl history`), closed
                  with `dunstctl close`, actions through `dunstctl action`.

Scenarios, for each server (sample interval 1 s, sustain 2 s, a 25%
per-process CPU threshold, system-wide and per-app alerts off):
  1. a CPU hog for SMOOTHTASK_HOG_SECONDS (default 30: thirty samples, each
     of which could have re-popped the banner; 120 to also see the one update
     a minute, ST_INCIDENT_MIN_UPDATE_US, which a shorter watch never
     reaches): exactly one notification row about it, its banner shown at
     most twice;
  2. a getppid storm (a python loop, 50k syscalls/s thresholds): one
     notification;
  3. the user closes our notification: no re-raise while the hog runs
     (SMOOTHTASK_CLOSE_WATCH_SECONDS, default 15);
  4. SIGTERM to the agent: nothing of ours left;
  5. (dunst) `dunstctl action` picks "Snooze" in dunst's menu: the agent
     snoozes and raises nothing more.
A harness check comes first (notify-send: one row, one banner), so that a
failure of the scenarios is the agent's, not the counting's.

The agent watches the whole machine, so only what is about the test's own
processes counts (see about_regex): alerts about other busy programs (other
suites on a shared machine) are logged as noise, and dunst is told to keep
them off screen.

Every stage is screenshotted into the log directory (printed at the start;
SMOOTHTASK_SHELL_LOGDIR, default <build>/meson-logs/shell-test), next to the
logs of every process and a dbus-monitor trace of each test. Every process
started here carries a marker in its environment and is killed at the end,
whatever happened (bus-activated services included).

Skips (unittest skips) only when a server's packages are missing; a server
that is installed but does not start is a failure. The script ends itself,
cleaning up, after SMOOTHTASK_SHELL_DEADLINE seconds (570).

  /usr/bin/python3 tests/shell-test.py [DunstTest | GnomeShellTest.test_3...]
  tests/shell-test.py --readme-screenshot docs/notification.png
The second retakes the README screenshot (a real alert about a loop named
"firefox" over a 50% threshold). SMOOTHTASK_BUILDDIR picks the build
(default ../build).
"""

import argparse
import atexit
import ctypes
import importlib.util
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import uuid

import gi

gi.require_version("Gio", "2.0")
gi.require_version("GLib", "2.0")
from gi.repository import Gio, GLib  # noqa: E402

from testlib import foreign_busy_names, gvariant_strings  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
BUILD = os.path.abspath(os.environ.get("SMOOTHTASK_BUILDDIR", os.path.join(HERE, "..", "build")))
AGENT = os.path.join(BUILD, "src", "smoothtask")
SCHEMA_DIR = os.path.join(BUILD, "data")
LOG_DIR = os.path.abspath(os.environ.get("SMOOTHTASK_SHELL_LOGDIR",
                                         os.path.join(BUILD, "meson-logs", "shell-test")))
HOG_SECONDS = float(os.environ.get("SMOOTHTASK_HOG_SECONDS", "30"))
CLOSE_WATCH_SECONDS = float(os.environ.get("SMOOTHTASK_CLOSE_WATCH_SECONDS", "15"))
STORM_WATCH_SECONDS = float(os.environ.get("SMOOTHTASK_STORM_WATCH_SECONDS", "10"))
# The whole script ends itself (cleaning up) before meson's timeout would.
SUITE_DEADLINE = float(os.environ.get("SMOOTHTASK_SHELL_DEADLINE", "570"))

MARKER = "SMOOTHTASK_SHELL_TEST_TOKEN"
TOKEN = "%d-%s" % (os.getpid(), uuid.uuid4().hex[:12])

NOTIFY_NAME = "org.freedesktop.Notifications"
NOTIFY_PATH = "/org/freedesktop/Notifications"
NOTIFY_IFACE = "org.freedesktop.Notifications"
APP_NAME = "SmoothTask"
POLL = 0.1

# Only per-process alerts (CPU; syscalls in the storm test): nothing else on
# a shared machine, nor the shell's own software rendering, may raise one.
BASE_SETTINGS = {
    "sample-interval": "1",
    "sustain-seconds": "2",
    "cpu-threshold": "100.0",
    "memory-threshold": "100.0",
    "memory-critical-threshold": "100.0",
    "process-memory-threshold": "100.0",
    "syscall-rate-threshold": "4294967295",
    "process-syscall-rate-threshold": "4294967295",
    # Low enough for a hog that shares two CPUs with other busy programs.
    "process-cpu-threshold": "25.0",
    "app-cpu-threshold": "100000.0",
    "app-memory-threshold": "100.0",
    "app-syscall-rate-threshold": "4294967295",
    "pressure-cpu-threshold": "0.0",
    "pressure-memory-threshold": "0.0",
    "pressure-io-threshold": "0.0",
    # cpu-threshold cannot go past 100, which a machine whose every CPU is
    # busy reaches: "High CPU load" would be shown before the hog's alert.
    "snoozed": "{'cpu/system': int64 4102444800}",
}
# With, at each start, the busy programs that are not the test's.
IGNORED = ['gnome-shell', 'gjs', 'Xwayland', 'Xvfb', 'dunst', 'dbus-daemon']
STORM_SETTINGS = {
    "process-syscall-rate-threshold": "50000",
    "syscall-rate-threshold": "50000",
}

STARTED = time.monotonic()


def log(msg):
    print("[%6.1f] %s" % (time.monotonic() - STARTED, msg), file=sys.stderr, flush=True)


def eventually(cond, timeout, interval=POLL):
    deadline = time.monotonic() + timeout
    while True:
        value = cond()
        if value or time.monotonic() >= deadline:
            return value
        time.sleep(interval)


def tail(path, n=30):
    try:
        with open(path, errors="replace") as f:
            return "".join(f.readlines()[-n:])
    except OSError as e:
        return "(%s)" % e


# --- processes ----------------------------------------------------------------
class Procs:
    """Every process this script starts, and those they start (a marker in
    the environment finds bus-activated services too)."""

    def __init__(self):
        self.procs = []
        self.lock = threading.Lock()

    def spawn(self, name, argv, env, logdir, **kw):
        env = dict(env)
        env[MARKER] = TOKEN
        path = os.path.join(logdir, name + ".log")
        out = open(path, "ab")
        p = subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL, stdout=out,
                             stderr=subprocess.STDOUT, **kw)
        p.log_path = path
        p.log_file = out
        p.st_name = name
        with self.lock:
            self.procs.append(p)
        return p

    def stop(self, p, sig=signal.SIGTERM, timeout=5.0):
        """Signal one process; SIGKILL if it has not gone after timeout. Its exit code."""
        if p.poll() is None:
            try:
                p.send_signal(sig)
                p.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        p.log_file.close()
        return p.returncode

    def cleanup(self):
        with self.lock:
            procs = list(reversed(self.procs))
            self.procs = []
        for p in procs:
            if p.poll() is None:
                try:
                    p.terminate()
                except OSError:
                    pass
        deadline = time.monotonic() + 3
        for p in procs:
            try:
                p.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
            p.log_file.close()
        for sig in (signal.SIGTERM, signal.SIGKILL):
            pids = marked_pids()
            for pid in pids:
                try:
                    os.kill(pid, sig)
                except OSError:
                    pass
            if pids and sig == signal.SIGTERM:
                eventually(lambda: not marked_pids(), timeout=3)
        reap()


def marked_pids():
    """Live processes whose environment holds this run's marker (not us)."""
    needle = ("%s=%s" % (MARKER, TOKEN)).encode()
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            with open("/proc/%s/environ" % entry, "rb") as f:
                if needle in f.read().split(b"\0"):
                    pids.append(int(entry))
        except OSError:
            pass
    return pids


def reap():
    """Zombies reparented to us (we are a subreaper)."""
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


PROCS = Procs()
TEMP_DIRS = []


def cleanup_all():
    PROCS.cleanup()
    for d in TEMP_DIRS:
        shutil.rmtree(d, ignore_errors=True)
    TEMP_DIRS.clear()


def on_term(signum, frame):
    # Not SystemExit: unittest would count it as one test's error and go on.
    log("signal %d: stopping, cleaning up" % signum)
    raise KeyboardInterrupt("signal %d" % signum)


# --- D-Bus ----------------------------------------------------------------------
def connect(address, timeout=10):
    def attempt():
        try:
            return Gio.DBusConnection.new_for_address_sync(
                address, Gio.DBusConnectionFlags.AUTHENTICATION_CLIENT
                | Gio.DBusConnectionFlags.MESSAGE_BUS_CONNECTION, None, None)
        except GLib.Error:
            return None
    conn = eventually(attempt, timeout)
    if conn is None:
        raise RuntimeError("cannot connect to " + address)
    return conn


def call(conn, name, path, iface, method, args=None, reply=None, timeout_ms=5000,
         autostart=True):
    flags = Gio.DBusCallFlags.NONE if autostart else Gio.DBusCallFlags.NO_AUTO_START
    v = conn.call_sync(name, path, iface, method, args,
                       GLib.VariantType.new(reply) if reply else None, flags, timeout_ms, None)
    return v.unpack() if v is not None else None


def has_owner(conn, name):
    try:
        return call(conn, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
                    "NameHasOwner", GLib.Variant("(s)", (name,)), "(b)")[0]
    except GLib.Error:
        return False


def parse_monitor(path):
    """Notify calls (new ones have replaces_id 0), CloseNotification calls and
    NotificationClosed reasons in a dbus-monitor trace."""
    counts = {"Notify": 0, "Notify-new": 0, "Notify-update": 0, "CloseNotification": 0,
              "ActionInvoked": 0, "closed-reasons": {}}
    try:
        with open(path, errors="replace") as f:
            text = f.read()
    except OSError:
        return counts
    blocks = re.split(r"\n(?=(?:method call|signal|method return|error) )", text)
    for b in blocks:
        m = re.search(r"member=(\w+)", b.split("\n", 1)[0])
        if not m:
            continue
        member = m.group(1)
        if member == "Notify":
            counts["Notify"] += 1
            rid = re.search(r"^\s*uint32 (\d+)", b, re.M)
            counts["Notify-new" if rid and rid.group(1) == "0" else "Notify-update"] += 1
        elif member in ("CloseNotification", "ActionInvoked"):
            counts[member] += 1
        elif member == "NotificationClosed":
            r = re.findall(r"^\s*uint32 (\d+)", b, re.M)
            reason = r[1] if len(r) > 1 else "?"
            counts["closed-reasons"][reason] = counts["closed-reasons"].get(reason, 0) + 1
    return counts


# --- what the user saw ------------------------------------------------------------
def about_regex(pids):
    """Notification texts about one of these processes: its subject ("name,
    pid N, has used ..."), its recovery ("name (pid N) has exited."), or a
    system alert that it leads ("Top: name (pid N, 97%), ..."; names may hold
    parentheses, not "(p"). Being listed second, or under "Also high:" in an
    alert about another process, does not count. A POSIX extended regular
    expression without backslashes, for dunst's rules as well."""
    alt = "(%s)" % "|".join(str(p) for p in pids)
    return ", pid %s,|[(]pid %s[)] |Top: ([^(]|[(][^p])*[(]pid %s," % (alt, alt, alt)


def about_pids(pids):
    if not pids:
        return None
    regex = re.compile(about_regex(pids))
    return lambda text: bool(regex.search(text or ""))


class Tally:
    """Banner appearances (rising edges of "a notification of ours about the
    subject is on screen") and the notification rows of ours seen in the list.

    The agent watches the whole machine: notifications about other processes
    (other test suites' busy loops on a shared machine) are counted apart, as
    noise, and never fail a test."""

    def __init__(self, label, about=None, visible=0):
        """visible: banners of ours already on screen (not counted)."""
        self.label = label
        self.about = about
        self.pops = 0
        self.noise_pops = 0
        self.rows_ever = set()
        self.noise_ever = set()
        self.rows_now = 0
        self.max_rows = 0
        self.samples = 0
        self.visible = visible
        self.noise_visible = False
        self.first_visible = None
        self.timeline = []
        self.texts = {}
        self.noise_texts = {}
        self.t0 = time.monotonic()

    def is_about(self, text):
        return self.about is None or self.about(text)

    def add(self, visible, rows, desc="", filtered=False):
        """visible: how many banners of ours are on screen (GNOME Shell: 0 or
        1), desc their text (filtered: the server shows only what is about
        the subject); rows: {row identity: text} of ours listed now (None:
        the server cannot say). A banner "shown" is a rise of that number."""
        now = time.monotonic() - self.t0
        self.samples += 1
        visible = int(visible)
        noise = visible and not filtered and not self.is_about(desc)
        if noise:
            visible = 0
        if visible > self.visible:
            self.pops += visible - self.visible
            if self.first_visible is None:
                self.first_visible = now
            self.timeline.append("%6.1f s  banner shown: %s" % (now, desc))
        elif visible < self.visible:
            self.timeline.append("%6.1f s  banner gone%s" % (now, ": " + desc if visible else ""))
        if noise and not self.noise_visible:
            self.noise_pops += 1
            self.timeline.append("%6.1f s  (noise) banner shown: %s" % (now, desc))
        self.visible = visible
        self.noise_visible = noise
        if rows is not None:
            mine = {k: v for k, v in rows.items() if self.is_about(v)}
            for r in sorted(set(rows) - self.rows_ever - self.noise_ever, key=str):
                self.timeline.append("%6.1f s  new row %s%s: %s" % (
                    now, r, "" if r in mine else " (noise)", rows[r]))
            if len(mine) != self.rows_now:
                self.timeline.append("%6.1f s  rows listed: %d" % (now, len(mine)))
            self.rows_ever |= set(mine)
            self.texts.update(mine)
            self.noise_ever |= set(rows) - set(mine)
            self.noise_texts.update({k: v for k, v in rows.items() if k not in mine})
            self.rows_now = len(mine)
            self.max_rows = max(self.max_rows, len(mine))

    def summary(self):
        return ("%s: banner shown %d times, %d distinct rows of ours, %d listed now (max %d), "
                "%d samples; noise (other processes): %d rows, %d banners" % (
                    self.label, self.pops, len(self.rows_ever), self.rows_now, self.max_rows,
                    self.samples, len(self.noise_ever), self.noise_pops))

    def report(self):
        return self.summary() + "\n" + "\n".join("    " + t for t in self.timeline)


# --- sessions -------------------------------------------------------------------
class Session:
    """A temp HOME and XDG dirs, a private session bus, and the processes of
    one notification server."""

    name = "session"

    def __init__(self):
        self.tmp = tempfile.mkdtemp(prefix="st-%s-" % self.name)
        TEMP_DIRS.append(self.tmp)
        os.chmod(self.tmp, 0o755)
        self.logdir = os.path.join(LOG_DIR, self.name)
        shutil.rmtree(self.logdir, ignore_errors=True)  # the last run's
        os.makedirs(self.logdir)
        self.run = os.path.join(self.tmp, "run")
        home = os.path.join(self.tmp, "home")
        os.makedirs(self.run, mode=0o700)
        os.makedirs(home)
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("DBUS_", "XDG_", "WAYLAND_", "GSETTINGS", "G_DEBUG"))
               and k not in ("DISPLAY", "LANGUAGE", "LC_ALL", "LANG")}
        env.update({
            "HOME": home,
            "XDG_RUNTIME_DIR": self.run,
            "XDG_CONFIG_HOME": os.path.join(home, ".config"),
            "XDG_DATA_HOME": os.path.join(home, ".local", "share"),
            "XDG_CACHE_HOME": os.path.join(home, ".cache"),
            "XDG_STATE_HOME": os.path.join(home, ".local", "state"),
            "LANG": "C.UTF-8",
            "LC_ALL": "C.UTF-8",
            "NO_AT_BRIDGE": "1",
        })
        self.env = env
        self.bus_address = None
        self.bus = None
        self.agent_pids = set()
        self.agent_count = 0

    def spawn(self, name, argv, env=None, **kw):
        return PROCS.spawn(name, argv, env if env is not None else self.env, self.logdir, **kw)

    def start_bus(self):
        address = "unix:path=" + os.path.join(self.run, "bus")
        self.env["DBUS_SESSION_BUS_ADDRESS"] = address
        self.bus_proc = self.spawn("session-bus", ["dbus-daemon", "--session", "--nofork",
                                                   "--address=" + address])
        self.bus_address = address
        self.bus = connect(address)

    def start_monitor(self, label):
        path = os.path.join(self.logdir, label + "-dbus.log")
        if os.path.exists(path):
            os.unlink(path)
        p = self.spawn(label + "-dbus", [
            "dbus-monitor", "--address", self.bus_address,
            "type='method_call',interface='%s',destination='%s'" % (NOTIFY_IFACE, NOTIFY_NAME),
            "type='signal',interface='%s'" % NOTIFY_IFACE])
        time.sleep(0.3)
        return p

    def stop(self):
        PROCS.cleanup()

    # --- the agent ---
    def start_agent(self, label, settings):
        self.agent_count += 1
        config = os.path.join(self.tmp, "agent-config-%d" % self.agent_count)
        path = os.path.join(config, "glib-2.0", "settings")
        os.makedirs(path)
        merged = dict(BASE_SETTINGS)
        # Another busy program (stress-ng, a build) would be the culprit
        # named, its alert ahead of the hog's.
        merged["ignored-processes"] = gvariant_strings(IGNORED + foreign_busy_names())
        merged.update(settings)
        with open(os.path.join(path, "keyfile"), "w") as f:
            f.write("[org/smoothtask/Agent]\n")
            for k, v in merged.items():
                f.write("%s=%s\n" % (k, v))
        env = dict(self.env)
        env.update({
            "XDG_CONFIG_HOME": config,
            "GSETTINGS_BACKEND": "keyfile",
            "GSETTINGS_SCHEMA_DIR": SCHEMA_DIR,
            "SMOOTHTASK_LOCALEDIR": os.path.join(BUILD, "po"),
        })
        agent = self.spawn(label + "-agent", [AGENT, "--verbose"], env=env)
        self.agent_pids.add(agent.pid)
        ok = eventually(lambda: "watching with" in tail(agent.log_path, 200) or agent.poll() is not None,
                        timeout=15)
        if not ok or agent.poll() is not None:
            raise AssertionError("the agent did not start:\n" + tail(agent.log_path))
        agent.backend = "bpf" if "watching with the bpf backend" in tail(agent.log_path, 200) else "proc"
        return agent

    def start_hog(self, name):
        """A shell busy loop whose program name (and comm) is `name`."""
        link = os.path.join(self.tmp, name)
        if not os.path.exists(link):
            os.symlink("/bin/sh", link)
        return self.spawn(name, [link, "-c", "while :; do :; done"])

    def start_storm(self, name):
        code = ("import ctypes, os; ctypes.CDLL(None).prctl(15, %r.encode(), 0, 0, 0)\n"
                "while True: os.getppid()" % name)
        return self.spawn(name, ["/usr/bin/python3", "-c", code])

    # --- to be provided by the servers ---
    def reset(self, pids=()):
        """Before a test: nothing listed or on screen. pids: the processes the
        test is about (dunst displays only what is about them, see about_regex)."""
        raise NotImplementedError

    def sample(self, tally):
        raise NotImplementedError

    def screenshot(self, label):
        raise NotImplementedError

    def user_close(self):
        raise NotImplementedError

    def ours_left(self):
        raise NotImplementedError

    def finish(self, tally):
        """Anything the server counts only at the end (dunst's history)."""

    def list_screenshot(self, label):
        """A screenshot that shows what is listed (GNOME Shell: the message
        list opened), once counting is over: opening it hides the banner."""
        return self.screenshot(label)

    def watch(self, tally, seconds, until=None, shots=None):
        """Sample every 100 ms for `seconds` (or until until() is true).
        shots: label -> predicate(tally) for screenshots taken once."""
        shots = dict(shots or {})
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            self.sample(tally)
            for label, pred in list(shots.items()):
                if pred(tally):
                    self.screenshot(label)
                    del shots[label]
            if until is not None and until(tally):
                return True
            time.sleep(POLL)
        return False


class GnomeShellSession(Session):
    name = "gnome-shell"

    @staticmethod
    def missing():
        need = {"gnome-shell": "gnome-shell", "gjs": "gjs", "dbus-daemon": "dbus",
                "dbus-monitor": "dbus", "gsettings": "libglib2.0-bin", "notify-send": "libnotify-bin"}
        absent = sorted({pkg for prog, pkg in need.items() if shutil.which(prog) is None})
        if not os.path.exists("/usr/share/gnome-shell/org.gnome.Shell.Notifications"):
            absent.append("gjs (org.gnome.Shell.Notifications)")
        if importlib.util.find_spec("dbusmock") is None:
            absent.append("python3-dbusmock")
        return absent

    def start(self):
        self.env.update({
            "XDG_SESSION_TYPE": "wayland",
            "XDG_CURRENT_DESKTOP": "GNOME",
            "LIBGL_ALWAYS_SOFTWARE": "1",
            "GSETTINGS_BACKEND": "dconf",
        })
        self.start_bus()
        # A private "system" bus with a mock logind: the shell exits without one.
        sysbus = "unix:path=" + os.path.join(self.run, "system_bus")
        self.spawn("system-bus", ["dbus-daemon", "--session", "--nofork", "--address=" + sysbus])
        self.env["DBUS_SYSTEM_BUS_ADDRESS"] = sysbus
        sysconn = connect(sysbus)
        self.spawn("logind-mock", ["/usr/bin/python3", "-m", "dbusmock", "--system", "-t", "logind"])
        if not eventually(lambda: has_owner(sysconn, "org.freedesktop.login1"), 15):
            raise AssertionError("the logind mock did not start:\n" +
                                 tail(os.path.join(self.logdir, "logind-mock.log")))
        sysconn.close_sync(None)
        for schema, key, value in (("org.gnome.desktop.session", "idle-delay", "0"),
                                   ("org.gnome.desktop.screensaver", "lock-enabled", "false"),
                                   ("org.gnome.desktop.lockdown", "disable-lock-screen", "true")):
            subprocess.run(["gsettings", "set", schema, key, value], env=dict(self.env, **{MARKER: TOKEN}),
                           check=True, timeout=20)
        self.shell = self.spawn("gnome-shell", [
            "gnome-shell", "--headless", "--wayland", "--no-x11", "--virtual-monitor", "1280x800",
            "--unsafe-mode"])
        # Not GetServerInformation at once: that would D-Bus-activate any
        # other server (dunst) before the shell owns the name.
        ready = eventually(lambda: self.shell.poll() is not None or (
            has_owner(self.bus, NOTIFY_NAME) and has_owner(self.bus, "org.gnome.Shell")), 60, 0.25)
        if self.shell.poll() is not None or not ready:
            raise AssertionError("GNOME Shell did not start (exit %s):\n%s" %
                                 (self.shell.poll(), tail(self.shell.log_path)))
        # The shell's first answer can take seconds on a busy machine.
        info = call(self.bus, NOTIFY_NAME, NOTIFY_PATH, NOTIFY_IFACE, "GetServerInformation",
                    reply="(ssss)", timeout_ms=25000)
        log("notification server: %s" % (info,))
        if info[0] != "gnome-shell":
            raise AssertionError("%s owns %s, not gnome-shell" % (info[0], NOTIFY_NAME))
        self.server_info = info
        # The shell starts in the overview; on a loaded machine its start-up
        # animation can swallow the first hide(): ask until it is hidden.
        def hidden():
            if self.eval("!Main.overview.visible"):
                return True
            self.eval("Main.overview.hide()")
            return False
        if not eventually(hidden, 30, interval=0.5):
            raise AssertionError("the overview did not hide")
        self.reset()

    def eval(self, js):
        ok, result = call(self.bus, "org.gnome.Shell", "/org/gnome/Shell", "org.gnome.Shell",
                          "Eval", GLib.Variant("(s)", (js,)), "(bs)", timeout_ms=10000)
        if not ok:
            raise AssertionError("Eval failed: %s\n%s" % (result, js))
        return json.loads(result) if result else None

    def move_pointer(self, x=None, y=600):
        self.eval("(() => { const C = imports.gi.Clutter; global._stVp ??= C.get_default_backend()"
                  ".get_default_seat().create_virtual_device(C.InputDeviceType.POINTER_DEVICE);"
                  "global._stX = %s; global._stVp.notify_absolute_motion("
                  "imports.gi.GLib.get_monotonic_time(), global._stX, %d); })()"
                  % ("global._stX === 640 ? 641 : 640" if x is None else x, y))

    def reset(self, pids=()):
        """Withdraw everything listed (the shell's own "privileged user" and
        "Screen Lock disabled" notices too) and wait for the banner to go."""
        self.eval("Main.messageTray.getSources().forEach(s => s.destroy("
                  "imports.ui.messageTray.NotificationDestroyedReason.SOURCE_CLOSED))")

        def quiet():
            self.move_pointer()
            return self.eval("Main.messageTray._notificationState === 0 && "
                             "Main.messageTray._notificationQueue.length === 0 && "
                             "Main.messageTray.getSources().length === 0")
        if not eventually(quiet, 15, 0.4):
            raise AssertionError("the message tray did not empty: %s" % self.state())

    STATE_JS = """(() => {
  const mt = Main.messageTray;
  global._stSeq ??= 0;
  const tag = n => (n._stTag ??= ++global._stSeq);
  %s
  const b = mt._notification;
  return {
    state: mt._notificationState,
    queue: mt._notificationQueue.length,
    banner: b ? {tag: tag(b), title: b.title, body: b.bannerBodyText,
                 source: b.source ? b.source.title : null,
                 pid: b.source && b.source.pid !== undefined ? b.source.pid : null} : null,
    sources: mt.getSources().map(s => ({title: s.title, pid: s.pid !== undefined ? s.pid : null,
      n: s.notifications.map(x => ({tag: tag(x), title: x.title, body: x.bannerBodyText}))})),
  };
})()"""
    MOVE_JS = ("const C = imports.gi.Clutter; global._stVp ??= C.get_default_backend()"
               ".get_default_seat().create_virtual_device(C.InputDeviceType.POINTER_DEVICE);"
               "global._stX = global._stX === 640 ? 641 : 640;"
               "global._stVp.notify_absolute_motion(imports.gi.GLib.get_monotonic_time(), global._stX, 600);")

    def state(self, move=False):
        return self.eval(self.STATE_JS % (self.MOVE_JS if move else ""))

    def is_ours(self, title, pid, match_title=APP_NAME):
        return pid in self.agent_pids or title == match_title

    def sample(self, tally, match_title=APP_NAME):
        st = self.state(move=tally.samples % 4 == 0)
        b = st["banner"]
        visible = (st["state"] in (1, 2) and b is not None
                   and self.is_ours(b["source"], b["pid"], match_title))
        rows = {}
        for s in st["sources"]:
            if self.is_ours(s["title"], s["pid"], match_title):
                for n in s["n"]:
                    rows[n["tag"]] = "%s | %s" % (n["title"], n["body"])
        desc = "%s | %s" % (b["title"], b["body"]) if b else ""
        tally.add(visible, rows, desc)
        tally.current = {k for k, v in rows.items() if tally.is_about(v)}
        tally.last = st
        return st

    def screenshot(self, label):
        path = os.path.join(self.logdir, label + ".png")
        ok, used = call(self.bus, "org.gnome.Shell.Screenshot", "/org/gnome/Shell/Screenshot",
                        "org.gnome.Shell.Screenshot", "Screenshot",
                        GLib.Variant("(bbs)", (False, False, path)), "(bs)", timeout_ms=20000)
        log("screenshot %s: %s" % ("saved" if ok else "FAILED", used))
        return path if ok else None

    def list_screenshot(self, label):
        self.eval("Main.panel.statusArea.dateMenu.menu.open(false)")
        time.sleep(1.0)
        try:
            return self.screenshot(label)
        finally:
            self.eval("Main.panel.statusArea.dateMenu.menu.close(false)")
            time.sleep(0.3)

    def user_close(self, tally):
        """What the user's close button does, on every row of ours about the
        subject: destroy with reason DISMISSED."""
        self.sample(tally)
        tags = json.dumps(sorted(tally.current))
        return self.eval("""(() => {
  const R = imports.ui.messageTray.NotificationDestroyedReason;
  let n = 0;
  for (const s of Main.messageTray.getSources())
    for (const x of [...s.notifications])
      if (%s.includes(x._stTag)) { x.destroy(R.DISMISSED); n++; }
  return n;
})()""" % tags)

    def ours_left(self, about=None):
        st = self.state()
        return sum(1 for s in st["sources"] if self.is_ours(s["title"], s["pid"])
                   for n in s["n"] if about is None or about("%s | %s" % (n["title"], n["body"])))

    def banner_geometry(self):
        return self.eval("(() => { const a = Main.messageTray._bannerBin;"
                         "const [x, y] = a.get_transformed_position();"
                         "const [w, h] = a.get_transformed_size(); return [x, y, w, h]; })()")


class DunstSession(Session):
    name = "dunst"

    @staticmethod
    def missing():
        need = {"dunst": "dunst", "dunstctl": "dunst", "Xvfb": "xvfb", "dbus-daemon": "dbus",
                "dbus-send": "dbus", "dbus-monitor": "dbus", "notify-send": "libnotify-bin"}
        return sorted({pkg for prog, pkg in need.items() if shutil.which(prog) is None})

    def start(self):
        self.dunst = None
        # An X server for dunst (its Wayland output needs a layer-shell compositor).
        r, w = os.pipe()
        self.xvfb = self.spawn("xvfb", ["Xvfb", "-displayfd", str(w), "-screen", "0", "1280x800x24",
                                        "-nolisten", "tcp"], pass_fds=(w,))
        os.close(w)
        display = b""
        deadline = time.monotonic() + 20
        while not display.endswith(b"\n") and time.monotonic() < deadline:
            chunk = os.read(r, 16)
            if not chunk:
                break
            display += chunk
        os.close(r)
        if not display.strip():
            raise AssertionError("Xvfb did not start:\n" + tail(self.xvfb.log_path))
        self.env["DISPLAY"] = ":" + display.decode().strip()
        log("Xvfb on DISPLAY=%s" % self.env["DISPLAY"])
        self.start_bus()
        # Defaults as shipped, except: no idle threshold (Xvfb has no input,
        # so every user would count as away and nothing would ever expire),
        # and a "dmenu" that picks Snooze in dunst's action menu.
        dmenu = os.path.join(self.tmp, "pick-snooze")
        with open(dmenu, "w") as f:
            f.write("#!/bin/sh\ntee -a %s | grep -m1 -i snooze\n" % os.path.join(self.logdir, "menu.log"))
        os.chmod(dmenu, 0o755)
        self.dmenu = dmenu
        self.config = os.path.join(self.tmp, "dunstrc")
        self.start_dunst()
        # The shell's first answer can take seconds on a busy machine.
        info = call(self.bus, NOTIFY_NAME, NOTIFY_PATH, NOTIFY_IFACE, "GetServerInformation",
                    reply="(ssss)", timeout_ms=25000)
        log("notification server: %s" % (info,))
        if info[0] != "dunst":
            raise AssertionError("%s owns %s, not dunst" % (info[0], NOTIFY_NAME))
        self.server_info = info

    def write_config(self, pids=()):
        with open(self.config, "w") as f:
            f.write("[global]\n    idle_threshold = 0\n    history_length = 100\n"
                    "    enable_posix_regex = true\n"
                    "    dmenu = %s\n    font = Cantarell 10\n"
                    "[urgency_low]\n    timeout = 10\n[urgency_normal]\n    timeout = 10\n"
                    "[urgency_critical]\n    timeout = 0\n" % self.dmenu)
            if pids:
                # The agent watches the whole machine: what it says about
                # other processes goes straight to the history, unseen, so
                # that dunst's counts are about the test's own processes.
                f.write("[st_noise]\n    appname = ^%s$\n    skip_display = yes\n"
                        "[st_subject]\n    appname = ^%s$\n    body = \"%s\"\n"
                        "    skip_display = no\n" % (APP_NAME, APP_NAME, about_regex(pids)))

    def start_dunst(self, pids=()):
        self.write_config(pids)
        self.dunst_count = getattr(self, "dunst_count", 0) + 1
        self.dunst = self.spawn("dunst-%d" % self.dunst_count,
                                ["dunst", "-config", self.config, "-verbosity", "info"])
        ok = eventually(lambda: self.dunst.poll() is not None or has_owner(self.bus, NOTIFY_NAME), 15)
        if not ok or self.dunst.poll() is not None:
            raise AssertionError("dunst did not start:\n" + tail(self.dunst.log_path))

    def reset(self, pids=()):
        """A fresh dunst: empty history, ids from 1, rules for these pids."""
        if self.dunst is not None:
            PROCS.stop(self.dunst)
            if not eventually(lambda: not has_owner(self.bus, NOTIFY_NAME), 10):
                raise AssertionError("dunst did not let go of " + NOTIFY_NAME)
        self.start_dunst(pids)

    def counts(self):
        props = call(self.bus, NOTIFY_NAME, NOTIFY_PATH, "org.freedesktop.DBus.Properties", "GetAll",
                     GLib.Variant("(s)", ("org.dunstproject.cmd0",)), "(a{sv})", autostart=False)[0]
        return {k: props[k + "Length"] for k in ("displayed", "waiting", "history")}

    def dunstctl(self, *args):
        r = subprocess.run(["dunstctl", *args], env=dict(self.env, **{MARKER: TOKEN}),
                           capture_output=True, text=True, timeout=20)
        if r.returncode != 0:
            raise AssertionError("dunstctl %s: %s" % (" ".join(args), r.stderr))
        return r.stdout

    def history(self):
        data = json.loads(self.dunstctl("history"))["data"][0]
        return [{k: v["data"] for k, v in e.items()} for e in data]

    def sample(self, tally, match_title=APP_NAME):
        c = self.counts()
        tally.add(c["displayed"], None, "displayed %(displayed)d, waiting %(waiting)d, "
                  "history %(history)d" % c, filtered=True)
        tally.last = c
        return c

    def screenshot(self, label):
        path = os.path.join(self.logdir, label + ".png")
        code = ("import gi, sys; gi.require_version('Gdk', '3.0'); from gi.repository import Gdk\n"
                "w = Gdk.get_default_root_window()\n"
                "p = Gdk.pixbuf_get_from_window(w, 0, 0, w.get_width(), w.get_height())\n"
                "p.savev(sys.argv[1], 'png', [], [])\n")
        r = subprocess.run(["/usr/bin/python3", "-c", code, path], env=dict(self.env, **{MARKER: TOKEN}),
                           capture_output=True, text=True, timeout=30)
        log("screenshot %s: %s" % ("saved" if r.returncode == 0 else "FAILED " + r.stderr.strip(), path))
        return path if r.returncode == 0 else None

    def user_close(self, tally):
        """`dunstctl close`: the last notification shown, closed as dismissed
        (only the test's own are displayed)."""
        n = self.counts()["displayed"]
        self.dunstctl("close")
        return n

    def ours_left(self, about=None):
        c = self.counts()
        return c["displayed"] + c["waiting"]

    def finish(self, tally):
        """Close what is on screen (into the history) and count what dunst
        showed: each history entry is one appearance; replaced in place, a
        notification keeps its entry."""
        self.dunstctl("close-all")
        time.sleep(0.3)
        hist = [e for e in self.history() if e.get("appname") == APP_NAME]
        mine = [e for e in hist if tally.is_about(e.get("body"))]
        tally.history = mine
        for e in mine:
            tally.rows_ever.add(e["id"])
            tally.texts[e["id"]] = "%s | %s" % (e.get("summary"), e.get("body"))
        tally.noise_ever |= {e["id"] for e in hist if e not in mine}
        tally.timeline.append("history of ours: %d entries, ids %s; %d about other processes" %
                              (len(mine), sorted({e["id"] for e in mine}), len(hist) - len(mine)))


# --- the scenarios ----------------------------------------------------------------
class ServerTests:
    """The scenarios; a subclass names its Session class."""

    session_class = None
    session = None

    @classmethod
    def setUpClass(cls):
        missing = cls.session_class.missing()
        if missing:
            raise unittest.SkipTest("not installed: %s (apt-get install --no-install-recommends %s)"
                                    % (", ".join(missing), " ".join(sorted(set(missing)))))
        if not os.access(AGENT, os.X_OK):
            raise AssertionError("no agent at %s: build first" % AGENT)
        t = time.monotonic()
        cls.session = cls.session_class()
        try:
            cls.session.start()
        except BaseException:
            cls.session.stop()
            cls.session = None
            raise
        log("%s ready after %.1f s" % (cls.session.name, time.monotonic() - t))

    @classmethod
    def tearDownClass(cls):
        if cls.session is not None:
            cls.session.stop()
            cls.session = None

    def setUp(self):
        self.s = self.session
        self.label = self.id().rsplit(".", 1)[-1]
        self.started = time.monotonic()
        log("--- %s %s" % (self.s.name, self.label))
        self.monitor = self.s.start_monitor(self.label)
        self.agent = None
        self.children = []
        self.tallies = []
        self.about = None

    def tearDown(self):
        for c in self.children:
            PROCS.stop(c, signal.SIGKILL)
        if self.agent is not None and self.agent.poll() is None:
            PROCS.stop(self.agent)
        time.sleep(0.3)
        PROCS.stop(self.monitor)
        counts = parse_monitor(self.monitor.log_path)
        log("%s on the bus: %d Notify (%d new, %d updates), %d CloseNotification, "
            "NotificationClosed reasons %s, %d ActionInvoked (all subjects)" % (
                self.label, counts["Notify"], counts["Notify-new"], counts["Notify-update"],
                counts["CloseNotification"], counts["closed-reasons"], counts["ActionInvoked"]))
        for t in self.tallies:
            log(t.report())
        if self.agent is not None:
            log("agent log: %s" % self.agent.log_path)
        log("%s took %.1f s" % (self.label, time.monotonic() - self.started))

    def begin(self, *children, **settings):
        """The test's processes are running: a clean server, then the agent."""
        pids = [c.pid for c in children]
        self.about = about_pids(pids)
        self.s.reset(pids)
        self.agent = self.s.start_agent(self.label, settings)
        log("agent pid %d (%s backend); subjects %s" % (self.agent.pid, self.agent.backend, pids))
        return self.agent

    def tally(self, what, after=None):
        """after: the tally before, whose banners on screen are not new."""
        t = Tally("%s %s %s" % (self.s.name, self.label, what), self.about,
                  after.visible if after is not None else 0)
        self.tallies.append(t)
        return t

    def hog(self, name="st-cpu-hog"):
        c = self.s.start_hog(name)
        self.children.append(c)
        return c

    def wait_first(self, tally, timeout=25):
        """Until a banner of ours shows (sustain 2 s + intervals + start-up,
        and banners of other processes' alerts ahead of it in the queue)."""
        shown = self.s.watch(tally, timeout, until=lambda t: t.pops > 0)
        self.assertTrue(shown, "no notification of ours within %d s; agent log:\n%s" %
                        (timeout, tail(self.agent.log_path)))

    def stop_agent(self):
        code = PROCS.stop(self.agent, signal.SIGTERM, timeout=10)
        self.assertEqual(code, 0, "agent exit status; log:\n" + tail(self.agent.log_path))

    @staticmethod
    def settled(seconds=1.5):
        """For a screenshot: the banner has finished sliding in."""
        return lambda t: t.visible and time.monotonic() - t.t0 > (t.first_visible or 0) + seconds

    # 0. the harness sees one notify-send as one row, one banner.
    def test_0_harness_counts_notify_send(self):
        self.s.reset()
        t = self.tally("notify-send")
        subprocess.run(["notify-send", "-a", "st-probe", "Probe", "one notification"],
                       env=dict(self.s.env, **{MARKER: TOKEN}), check=True, timeout=20)
        deadline = time.monotonic() + 6
        shot = False
        while time.monotonic() < deadline:
            self.s.sample(t, match_title="st-probe")
            if not shot and self.settled(1.0)(t):
                self.s.screenshot(self.label)
                shot = True
            time.sleep(POLL)
        self.assertEqual(t.pops, 1, t.report())
        if isinstance(self.s, DunstSession):
            self.s.finish(t)
            self.assertEqual(len(self.s.history()), 1)
        else:
            self.assertEqual(len(t.rows_ever), 1, t.report())

    # 1. a CPU hog: one row, its banner at most twice.
    def test_1_cpu_hog_one_notification(self):
        hog = self.hog()
        self.begin(hog)
        t = self.tally("hog %d s" % HOG_SECONDS)
        self.s.watch(t, HOG_SECONDS, shots={
            self.label + "-1-first-banner": self.settled(),
            self.label + "-2-midway": lambda t: time.monotonic() - t.t0 > HOG_SECONDS / 2})
        self.s.finish(t)
        self.s.list_screenshot(self.label + "-3-end-list")
        self.assertTrue(t.rows_ever, "no notification about the hog (pid %d) in %d s; agent log:\n%s"
                        % (hog.pid, HOG_SECONDS, tail(self.agent.log_path)))
        problems = []
        if len(t.rows_ever) != 1:
            problems.append("%d distinct notifications about the hog, want exactly 1: %s" %
                            (len(t.rows_ever), t.texts))
        if t.pops > 2:
            problems.append("its banner was shown %d times in %d s, want at most 2" %
                            (t.pops, HOG_SECONDS))
        self.assertFalse(problems, "; ".join(problems) + "\n" + t.report())

    # 2. a getppid storm: one notification.
    def test_2_getppid_storm_one_notification(self):
        storm = self.s.start_storm("st-getppid")
        self.children.append(storm)
        agent = self.begin(storm, **STORM_SETTINGS)
        if agent.backend != "bpf":
            self.skipTest("system call rates need the BPF backend; the agent uses %s" % agent.backend)
        t = self.tally("getppid storm")
        self.wait_first(t)
        self.s.watch(t, STORM_WATCH_SECONDS, shots={self.label + "-1-banner": self.settled()})
        self.s.finish(t)
        self.s.list_screenshot(self.label + "-2-end-list")
        problems = []
        if len(t.rows_ever) != 1:
            problems.append("%d distinct notifications about the storm, want exactly 1: %s" %
                            (len(t.rows_ever), t.texts))
        if t.pops > 1:
            problems.append("its banner was shown %d times in %d s, want 1" %
                            (t.pops, t.samples * POLL))
        self.assertFalse(problems, "; ".join(problems) + "\n" + t.report())

    # 3. the user closes it: no re-raise while the hog runs.
    def test_3_user_close_is_final(self):
        self.begin(self.hog())
        before = self.tally("before the close")
        self.wait_first(before)
        self.s.watch(before, 1.5)
        self.s.screenshot(self.label + "-1-before-close")
        closed = self.s.user_close(before)
        self.assertGreaterEqual(closed, 1, "nothing of ours to close")
        time.sleep(0.3)
        after = self.tally("%d s after the user closed %d" % (CLOSE_WATCH_SECONDS, closed))
        self.s.watch(after, CLOSE_WATCH_SECONDS, shots={
            self.label + "-2-after-close": lambda t: time.monotonic() - t.t0 > 1.5})
        left = self.s.ours_left(self.about)
        self.s.list_screenshot(self.label + "-3-end-list")
        problems = []
        if after.pops:
            problems.append("re-raised: its banner shown %d times after the close" % after.pops)
        if after.rows_ever:
            problems.append("%d notifications about the hog listed again after the close: %s" %
                            (len(after.rows_ever), after.texts))
        if left:
            problems.append("%d about the hog on screen or listed at the end" % left)
        self.assertFalse(problems, "; ".join(problems) + "\n" + after.report())

    # 4. SIGTERM: nothing of ours left.
    def test_4_sigterm_withdraws(self):
        self.begin(self.hog())
        t = self.tally("before SIGTERM")
        self.wait_first(t)
        self.s.watch(t, 1.5)
        self.s.screenshot(self.label + "-1-before-sigterm")
        self.assertGreaterEqual(self.s.ours_left(), 1)
        self.stop_agent()
        gone = eventually(lambda: self.s.ours_left() == 0, 5)
        self.s.list_screenshot(self.label + "-2-after-sigterm-list")
        self.assertTrue(gone, "%d of ours still listed or on screen 5 s after SIGTERM" %
                        self.s.ours_left())


class GnomeShellTest(ServerTests, unittest.TestCase):
    session_class = GnomeShellSession


class DunstTest(ServerTests, unittest.TestCase):
    session_class = DunstSession

    # 5. "Snooze" through dunst's menu: the agent snoozes, nothing more is raised.
    def test_5_action_snooze(self):
        self.begin(self.hog())
        t = self.tally("before the action")
        self.wait_first(t)
        self.s.screenshot(self.label + "-1-before-action")
        self.s.sample(t)
        self.s.dunstctl("action", "0")
        snoozed = eventually(lambda: "Snoozing" in tail(self.agent.log_path, 400), 5)
        after = self.tally("15 s after Snooze", after=t)
        self.s.watch(after, 15)
        self.s.screenshot(self.label + "-2-end")
        self.assertTrue(snoozed, "the agent did not snooze; dunst's menu offered:\n%s\nagent log:\n%s"
                        % (tail(os.path.join(self.s.logdir, "menu.log")), tail(self.agent.log_path)))
        self.assertEqual(after.pops, 0, "re-raised after Snooze\n" + after.report())
        self.assertEqual(self.s.ours_left(), 0, "still on screen after Snooze")


# --- the README screenshot ----------------------------------------------------------
def readme_screenshot(out):
    """A real alert on GNOME Shell: a loop named firefox over a 50% threshold,
    cropped to the top of the screen, with the pointer on the banner so that
    its buttons show. The agent is stopped (SIGSTOP) as soon as the banner is
    up: GNOME Shell 43 drops a banner's buttons when the notification is
    updated (the daemon clears the actions and adds them back unseen)."""
    gi.require_version("GdkPixbuf", "2.0")
    from gi.repository import GdkPixbuf
    s = GnomeShellSession()
    s.start()
    hog = s.start_hog("firefox")
    agent = s.start_agent("readme", {"process-cpu-threshold": "50.0"})
    t = Tally("readme", about_pids([hog.pid]))
    if not s.watch(t, 20, until=lambda t: t.visible):
        raise SystemExit("no notification:\n" + tail(agent.log_path))
    agent.send_signal(signal.SIGSTOP)
    if "Also high" in (t.last["banner"] or {}).get("body", ""):
        raise SystemExit("another busy process made it into the text: run again")
    try:
        hog.send_signal(signal.SIGSTOP)
        eventually(lambda: s.eval("Main.messageTray._notificationState") == 2, 5)
        x, y, w, h = s.banner_geometry()
        for dx in (0, 1):  # on the title, once slid in: expands it
            s.move_pointer(int(x + w / 2) + dx, int(y + 24))
            time.sleep(0.3)
        time.sleep(1.5)
        buttons = s.eval("(() => { const b = Main.messageTray._banner;"
                         "return b && b._buttonBox ? b._buttonBox.get_n_children() : 0; })()")
        log("banner buttons: %d" % buttons)
        x, y, w, h = s.banner_geometry()
        full = s.screenshot("readme-full")
    finally:
        agent.send_signal(signal.SIGCONT)
        hog.send_signal(signal.SIGCONT)
    pix = GdkPixbuf.Pixbuf.new_from_file(full)
    margin = 24
    left = max(0, int(x) - margin)
    right = min(pix.get_width(), int(x + w) + margin)
    bottom = min(pix.get_height(), int(y + h) + margin)
    pix.new_subpixbuf(left, 0, right - left, bottom).savev(out, "png", [], [])
    log("README screenshot: %s (%dx%d from %s)" % (out, right - left, bottom, full))
    if not buttons:
        raise SystemExit("the banner showed no buttons: try again")


def main():
    ap = argparse.ArgumentParser(add_help=False)
    ap.add_argument("--readme-screenshot")
    args, rest = ap.parse_known_args()
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER: orphans come to us
    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGHUP, on_term)
    atexit.register(cleanup_all)
    watchdog = threading.Timer(SUITE_DEADLINE, lambda: os.kill(os.getpid(), signal.SIGTERM))
    watchdog.daemon = True
    watchdog.start()
    os.makedirs(LOG_DIR, exist_ok=True)
    log("logs and screenshots: %s" % LOG_DIR)
    log("agent: %s; hog %d s, close watch %d s" % (AGENT, HOG_SECONDS, CLOSE_WATCH_SECONDS))
    try:
        if args.readme_screenshot:
            readme_screenshot(os.path.abspath(args.readme_screenshot))
            return 0
        prog = unittest.main(argv=[sys.argv[0]] + rest, verbosity=2, exit=False)
        return 0 if prog.result.wasSuccessful() else 1
    finally:
        cleanup_all()
        log("done in %.1f s; logs and screenshots: %s" % (time.monotonic() - STARTED, LOG_DIR))


if __name__ == "__main__":
    sys.exit(main())
