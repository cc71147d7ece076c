#!/usr/bin/python3
"""The notifier alone: tests/notifier-driver against a dbusmock notification server.

Run under dbus-run-session (meson does). The driver reads commands on stdin
and prints events (ticks every 100 ms from its main loop, actions, closes,
replies); the mock records every call the notifier makes. Tests of a dying
bus start a dbus-daemon of their own at a fixed address.
"""

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import unittest

from testlib import eventually

import dbus
import dbusmock

BUILD = os.environ.get("SMOOTHTASK_BUILDDIR", os.path.join(os.path.dirname(__file__), "..", "build"))
DRIVER = os.path.join(BUILD, "tests", "notifier-driver")
NOTIFY_NAME = "org.freedesktop.Notifications"
NOTIFY_PATH = "/org/freedesktop/Notifications"
NOTIFY_IFACE = "org.freedesktop.Notifications"


class Driver:
    """The notifier-driver process: commands in, events out (read by a thread)."""

    def __init__(self, env, log_path):
        self.log_path = log_path
        self.log = open(log_path, "w")
        self.proc = subprocess.Popen([DRIVER], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=self.log, env=env, text=True, bufsize=1)
        self.lines = []
        self.lock = threading.Lock()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        assert eventually(lambda: "ready" in self.events() and self.ticks()), "no driver"

    def _read(self):
        for line in self.proc.stdout:
            with self.lock:
                self.lines.append(line.rstrip("\n"))

    def send(self, *commands):
        for c in commands:
            self.proc.stdin.write(c + "\n")
        self.proc.stdin.flush()

    def events(self):
        with self.lock:
            return [l for l in self.lines if not l.startswith("tick ")]

    def ticks(self):
        """Driver-side monotonic milliseconds of every tick so far."""
        with self.lock:
            return [int(l.split()[2]) for l in self.lines if l.startswith("tick ")]

    def wait_event(self, event, timeout=10.0, count=1):
        return eventually(lambda: self.events().count(event) >= count, timeout)

    def stderr(self):
        self.log.flush()
        with open(self.log_path) as f:
            return f.read()

    def stop(self):
        if self.proc.poll() is None:
            try:
                self.send("quit")
                self.proc.wait(timeout=10)
            except (BrokenPipeError, subprocess.TimeoutExpired):
                self.proc.kill()
                self.proc.wait()
        self.reader.join(timeout=5)
        self.proc.stdin.close()
        self.proc.stdout.close()
        self.log.close()


class Mock:
    """A python-dbusmock notification server on the bus at `address`."""

    def __init__(self, address, caps="body body-markup actions"):
        env = dict(os.environ, DBUS_SESSION_BUS_ADDRESS=address)
        self.bus = dbus.bus.BusConnection(address)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "dbusmock", "--template", "notification_daemon",
             "-p", json.dumps({"capabilities": caps})],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        assert eventually(lambda: self.bus.name_has_owner(NOTIFY_NAME)), "no mock server"
        self.iface = dbus.Interface(self.bus.get_object(NOTIFY_NAME, NOTIFY_PATH),
                                    dbusmock.MOCK_IFACE)

    def calls(self):
        """Notify and CloseNotification calls in order, Notify with the id it returned."""
        out, next_id = [], 1
        for _, method, args in self.iface.GetCalls():
            if method == "Notify":
                nid = int(args[1])
                if nid == 0:
                    nid, next_id = next_id, next_id + 1
                out.append({
                    "method": "Notify", "id": nid, "app": str(args[0]),
                    "replaces_id": int(args[1]), "icon": str(args[2]),
                    "summary": str(args[3]), "body": str(args[4]),
                    "actions": [str(a) for a in args[5]],
                    "hints": {str(k): v for k, v in args[6].items()},
                })
            elif method == "CloseNotification":
                out.append({"method": "CloseNotification", "id": int(args[0])})
        return out

    def notifies(self, prefix=""):
        return [c for c in self.calls()
                if c["method"] == "Notify" and c["summary"].startswith(prefix)]

    def closed_ids(self):
        return [c["id"] for c in self.calls() if c["method"] == "CloseNotification"]

    def id_of(self, summary):
        calls = eventually(lambda: [c for c in self.notifies() if c["summary"] == summary])
        assert calls, "never shown: " + summary
        return calls[-1]["id"]

    def emit(self, signal_name, sig, args):
        self.iface.EmitSignal(NOTIFY_IFACE, signal_name, sig, args)

    def stop(self, sig=signal.SIGTERM):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGCONT)
            self.proc.send_signal(sig)
            self.proc.wait()
        try:
            eventually(lambda: not self.bus.name_has_owner(NOTIFY_NAME), timeout=5)
        except dbus.exceptions.DBusException:
            pass  # the bus itself is gone


class NotifierTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="smoothtask-notifier-")
        self.env = dict(os.environ)
        self.env.update({"G_DEBUG": "fatal-criticals", "LC_ALL": "C.UTF-8",
                         "G_MESSAGES_DEBUG": "smoothtask-notifier",
                         "NOTIFY_IGNORE_PORTAL": "1"})
        self.address = os.environ["DBUS_SESSION_BUS_ADDRESS"]
        self.mocks = []
        self.drivers = []
        self.daemons = []

    def tearDown(self):
        for d in self.drivers:
            d.stop()
        for m in self.mocks:
            m.stop(signal.SIGKILL)
        for p in self.daemons:
            if p.poll() is None:
                p.kill()
                p.wait()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def start_mock(self, address=None, **kwargs):
        mock = Mock(address or self.address, **kwargs)
        self.mocks.append(mock)
        return mock

    def start_driver(self, env=None):
        d = Driver(env or self.env, os.path.join(self.tmp, "driver-%d.log" % len(self.drivers)))
        self.drivers.append(d)
        return d

    def start_bus_daemon(self, socket):
        p = subprocess.Popen(["dbus-daemon", "--session", "--nofork", "--print-address",
                              "--address=unix:path=" + socket],
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        p.stdout.readline()
        p.stdout.close()
        self.daemons.append(p)
        return p

    def unique_name_of(self, pid):
        bus = dbus.bus.BusConnection(self.address)
        dbus_iface = dbus.Interface(bus.get_object("org.freedesktop.DBus", "/org/freedesktop/DBus"),
                                    "org.freedesktop.DBus")
        for name in dbus_iface.ListNames():
            if name.startswith(":") and dbus_iface.GetConnectionUnixProcessID(name) == pid:
                return str(name)
        return None

    def assert_loop_never_blocked(self, driver, since_ms, max_gap_ms=1000):
        ticks = [t for t in driver.ticks() if t >= since_ms]
        self.assertGreater(len(ticks), 2)
        gaps = [b - a for a, b in zip(ticks, ticks[1:])]
        self.assertLess(max(gaps), max_gap_ms, "the main loop stalled")

    # --- shows ------------------------------------------------------------
    def test_show_and_replace_one_id_per_key(self):
        mock = self.start_mock()
        d = self.start_driver()
        d.send("show a a-1 first", "show b b-1 other")
        self.assertTrue(d.wait_event("sent a 1") and d.wait_event("sent b 1"), d.events())
        for i in range(2, 12):
            d.send("show a a-%d update %d" % (i, i))
        self.assertTrue(eventually(lambda: mock.notifies("a-11")), mock.calls())
        a, b = mock.notifies("a-"), mock.notifies("b-")
        self.assertEqual(a[0]["replaces_id"], 0)
        self.assertEqual({c["id"] for c in a}, {a[0]["id"]}, "one id per key")
        self.assertTrue(all(c["replaces_id"] == a[0]["id"] for c in a[1:]))
        self.assertNotEqual(a[0]["id"], b[0]["id"])
        self.assertEqual(a[-1]["body"], "update 11", "the latest text is shown last")
        # Updates queued behind one in flight collapse into the latest.
        self.assertLessEqual(len(a), 11)

    def test_text_hints_and_actions(self):
        mock = self.start_mock()
        d = self.start_driver()
        d.send("show a alert-a the <b>body</b>", "showt r recovered-r over")
        self.assertTrue(d.wait_event("sent r 1"), d.events())
        alert, recovery = mock.notifies("alert-a")[0], mock.notifies("recovered-r")[0]
        self.assertEqual(alert["app"], "SmoothTask")
        self.assertEqual(alert["icon"], "dialog-warning")
        self.assertEqual(alert["body"], "the <b>body</b>")
        self.assertEqual(alert["actions"], ["default", "Open", "snooze", "Snooze for 1 hour"])
        self.assertEqual(int(alert["hints"]["urgency"]), 2)
        self.assertEqual(str(alert["hints"]["category"]), "device")
        self.assertEqual(str(alert["hints"]["desktop-entry"]), "org.smoothtask.Agent")
        self.assertNotIn("transient", alert["hints"])
        self.assertEqual(recovery["actions"], [])
        self.assertEqual(int(recovery["hints"]["urgency"]), 1)
        self.assertTrue(bool(recovery["hints"]["transient"]))
        d.send("server")
        self.assertTrue(d.wait_event("server 1"))

    def test_actions_dropped_without_the_capability(self):
        mock = self.start_mock(caps="body")
        d = self.start_driver()
        d.send("show a no-actions body")
        self.assertTrue(d.wait_event("sent a 1"), d.events())
        self.assertEqual(mock.notifies("no-actions")[0]["actions"], [])

    # --- closes -------------------------------------------------------------
    def test_close_while_in_flight_wins(self):
        mock = self.start_mock()
        # The server takes 1.5 s over each Notify: the close comes meanwhile.
        mock.iface.AddMethod(NOTIFY_IFACE, "Notify", "susssasa{sv}i", "u",
                             "__import__('time').sleep(1.5)\n"
                             "ret = args[1] if args[1] else self.next_id\n"
                             "if not args[1]: self.next_id += 1\n")
        d = self.start_driver()
        d.send("show a in-flight body")
        # Not asking the mock: it answers nothing while inside Notify.
        time.sleep(0.7)
        self.assertNotIn("sent a 1", d.events(), "the show should still be in flight")
        d.send("close a")
        self.assertTrue(d.wait_event("sent a 1"), d.events())
        nid = mock.id_of("in-flight")
        self.assertTrue(eventually(lambda: nid in mock.closed_ids()), mock.calls())
        time.sleep(1)
        calls = mock.calls()
        self.assertEqual(calls[-1], {"method": "CloseNotification", "id": nid}, calls)

    def test_close_while_queued_wins(self):
        mock = self.start_mock()
        d = self.start_driver()
        d.send("show a shown-first body")
        self.assertTrue(d.wait_event("sent a 1"), d.events())
        nid = mock.id_of("shown-first")
        mock.proc.send_signal(signal.SIGSTOP)
        d.send("show a never-shown body", "sleep 300", "close a")
        self.assertTrue(d.wait_event("sent a 0"), d.events())
        time.sleep(0.5)
        mock.proc.send_signal(signal.SIGCONT)
        self.assertTrue(eventually(lambda: nid in mock.closed_ids()), mock.calls())
        time.sleep(0.5)
        self.assertEqual(mock.notifies("never-shown"), [])
        self.assertEqual(mock.calls()[-1]["method"], "CloseNotification")

    def test_close_all_withdraws_everything(self):
        mock = self.start_mock()
        d = self.start_driver()
        d.send("show a all-a x", "show b all-b x", "showt r all-r recovered", "forget r",
               "show c all-c x", "close c")
        self.assertTrue(d.wait_event("sent r 1") and d.wait_event("sent b 1"), d.events())
        self.assertTrue(eventually(lambda: [e for e in d.events() if e.startswith("sent c")]))
        ids = {mock.id_of(s) for s in ("all-a", "all-b", "all-r")}
        d.send("closeall 2000")
        self.assertTrue(eventually(lambda: [e for e in d.events() if e.startswith("closeall-done")]))
        # Sent (and answered) before closeall returned.
        self.assertTrue(ids <= set(mock.closed_ids()), (ids, mock.calls()))
        # Nothing closed twice, and nothing comes back.
        time.sleep(0.5)
        closed = mock.closed_ids()
        self.assertEqual(len(closed), len(set(closed)), closed)
        self.assertEqual(mock.calls()[-1]["method"], "CloseNotification")

    def test_close_all_is_bounded(self):
        mock = self.start_mock()
        d = self.start_driver()
        d.send("show a bounded x")
        self.assertTrue(d.wait_event("sent a 1"))
        mock.proc.send_signal(signal.SIGSTOP)
        d.send("closeall 300")
        done = eventually(lambda: [e for e in d.events() if e.startswith("closeall-done")], 5)
        mock.proc.send_signal(signal.SIGCONT)
        self.assertTrue(done)
        self.assertLess(int(done[0].split()[1]), 1000)
        nid = mock.id_of("bounded")
        self.assertTrue(eventually(lambda: nid in mock.closed_ids()), mock.calls())

    # --- a stopped server -------------------------------------------------
    def test_stopped_server_never_blocks_and_latest_text_wins(self):
        mock = self.start_mock()
        d = self.start_driver()
        d.send("show a stop-a v1", "show b stop-b w1")
        self.assertTrue(d.wait_event("sent a 1") and d.wait_event("sent b 1"), d.events())
        nid = mock.id_of("stop-a")
        mock.proc.send_signal(signal.SIGSTOP)
        since = d.ticks()[-1]
        d.send("show a stop-a v2", "sleep 200", "show b stop-b w2", "show a stop-a v3",
               "show c stop-c x1", "sleep 5000", "show a stop-a v4", "server")
        self.assertTrue(d.wait_event("server 1", timeout=10), d.events())
        # Long enough for a blocking call to show in the ticks (the whole
        # agent past D-Bus's 25 s timeout: integration-test.py).
        time.sleep(6)
        self.assert_loop_never_blocked(d, since)
        self.assertGreater(len([t for t in d.ticks() if t >= since]), 50)
        mock.proc.send_signal(signal.SIGCONT)
        self.assertTrue(eventually(lambda: mock.notifies("stop-c")), mock.calls())
        self.assertTrue(eventually(lambda: [c for c in mock.notifies("stop-a")
                                            if c["body"] == "v4"]), mock.calls())
        a = mock.notifies("stop-a")
        self.assertEqual([c["body"] for c in a], ["v1", "v4"], "only the latest text")
        self.assertEqual({c["id"] for c in a}, {nid})
        self.assertEqual([c["body"] for c in mock.notifies("stop-b")], ["w1", "w2"])
        self.assert_loop_never_blocked(d, since)

    # --- signals --------------------------------------------------------------
    def test_signals_only_from_the_server(self):
        mock = self.start_mock()
        d = self.start_driver()
        d.send("show a spoof-a x")
        self.assertTrue(d.wait_event("sent a 1"), d.events())
        nid = mock.id_of("spoof-a")
        me = self.unique_name_of(d.proc.pid)
        self.assertIsNotNone(me)
        # Broadcast, then sent to the driver alone; typed as the spec says.
        for dest in ([], ["--dest", me]):
            emit = ["gdbus", "emit", "--session", "--object-path", NOTIFY_PATH, *dest, "--signal"]
            subprocess.run(emit + [NOTIFY_IFACE + ".ActionInvoked", "uint32 %d" % nid, "snooze"],
                           check=True)
            subprocess.run(emit + [NOTIFY_IFACE + ".ActionInvoked", "uint32 %d" % nid, "default"],
                           check=True)
            subprocess.run(emit + [NOTIFY_IFACE + ".NotificationClosed", "uint32 %d" % nid,
                                   "uint32 2"], check=True)
        time.sleep(1.5)
        self.assertEqual([e for e in d.events() if e.startswith(("action", "closed"))], [])
        # The same from the server itself counts.
        mock.emit("ActionInvoked", "us", [dbus.UInt32(nid), "snooze"])
        self.assertTrue(d.wait_event("action a snooze"), d.events())
        mock.emit("ActionInvoked", "us", [dbus.UInt32(nid), "default"])
        self.assertTrue(d.wait_event("action a default"), d.events())

    def test_closed_by_the_user_is_reported_and_next_show_is_new(self):
        mock = self.start_mock()
        d = self.start_driver()
        d.send("show a user-a x")
        self.assertTrue(d.wait_event("sent a 1"), d.events())
        nid = mock.id_of("user-a")
        mock.emit("NotificationClosed", "uu", [dbus.UInt32(nid), dbus.UInt32(2)])
        self.assertTrue(d.wait_event("closed a 2"), d.events())
        d.send("show a user-a again")
        self.assertTrue(d.wait_event("sent a 1", count=2), d.events())
        again = mock.notifies("user-a")[-1]
        self.assertEqual(again["replaces_id"], 0)
        self.assertNotEqual(again["id"], nid)
        # Expiry (reason 1) of the new one too: libnotify's one close per object.
        mock.emit("NotificationClosed", "uu", [dbus.UInt32(again["id"]), dbus.UInt32(1)])
        self.assertTrue(d.wait_event("closed a 1"), d.events())

    # --- restarts -------------------------------------------------------------
    def test_server_restart(self):
        mock = self.start_mock()
        d = self.start_driver()
        d.send("show a before-restart x")
        self.assertTrue(d.wait_event("sent a 1"), d.events())
        mock.stop(signal.SIGKILL)
        d.send("show b while-none x")
        self.assertTrue(d.wait_event("sent b 0"), d.events())
        mock = self.start_mock()
        d.send("show a after-restart x")
        self.assertTrue(d.wait_event("sent a 1", count=2), d.events())
        after = mock.notifies("after-restart")
        self.assertEqual(len(after), 1, mock.calls())
        self.assertEqual(after[0]["replaces_id"], 0, "an id of the old server is meaningless")
        self.assertIn("while-none", d.stderr())

    def test_no_server_logs_the_text(self):
        d = self.start_driver()
        d.send("show a lonely-a first", "show b lonely-b second")
        self.assertTrue(d.wait_event("sent a 0") and d.wait_event("sent b 0"), d.events())
        log = d.stderr()
        self.assertIn("lonely-a: first", log)
        self.assertIn("lonely-b: second", log)
        self.assertEqual(log.count("No notification server"), 1, log)
        d.send("server")
        self.assertTrue(d.wait_event("server 0"))
        mock = self.start_mock()
        d.send("show a lonely-a third")
        self.assertTrue(d.wait_event("sent a 1"), d.events())
        self.assertEqual([c["body"] for c in mock.notifies("lonely-a")], ["third"])

    def test_session_bus_gone_and_back(self):
        socket = os.path.join(self.tmp, "bus")
        address = "unix:path=" + socket
        env = dict(self.env, DBUS_SESSION_BUS_ADDRESS=address)
        d = self.start_driver(env)
        d.send("show a nobus-a x")
        self.assertTrue(d.wait_event("sent a 0"), d.events())
        self.assertEqual(d.stderr().count("No session bus"), 1, d.stderr())

        daemon = self.start_bus_daemon(socket)
        mock = self.start_mock(address)
        d.send("show a bus-a x")
        self.assertTrue(d.wait_event("sent a 1"), d.events() + [d.stderr()])

        daemon.kill()
        daemon.wait()
        mock.proc.kill()
        mock.proc.wait()
        since = d.ticks()[-1]
        d.send("show a gone-a x", "show b gone-b y", "show a gone-a z")
        self.assertTrue(d.wait_event("sent b 0"), d.events())
        cpu_before = self.cpu_seconds(d.proc.pid)
        time.sleep(2)
        self.assertLess(self.cpu_seconds(d.proc.pid) - cpu_before, 0.5, "spinning")
        log = d.stderr()
        self.assertEqual(log.count("session bus connection closed"), 1, log)
        self.assertIn("gone-b: y", log)
        self.assertIsNone(d.proc.poll())
        self.assert_loop_never_blocked(d, since)

        self.start_bus_daemon(socket)
        mock = self.start_mock(address)
        d.send("show a back-a x")
        self.assertTrue(eventually(lambda: mock.notifies("back-a")), d.stderr())
        self.assertEqual(mock.notifies("back-a")[0]["replaces_id"], 0)

    @staticmethod
    def cpu_seconds(pid):
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


if __name__ == "__main__":
    unittest.main(verbosity=2)
