#!/usr/bin/python3
"""loader-test.py: the installed smoothtask-loader and agent, run as nobody.

meson install into a DESTDIR; the loader gets cap_bpf,cap_perfmon=ep (the
agent nothing). Then, as uid 65534, on a private session bus with a
python-dbusmock notification server, as a user would:
  - the agent uses BPF and holds no capability in any thread, no
    no_new_privs, no descriptor it did not open or was not handed;
  - a busy child is notified through the server at DBUS_SESSION_BUS_ADDRESS
    (no AT_SECURE: GLib honours the variable), an alert-command gets none
    of the BPF descriptors and may gain privileges;
  - --check names the loader and that server; --dump holds no capability;
  - ten --dump and a second agent beside it load no second set of programs;
  - under hidepid=invisible, other users' processes do not show.
TAP output. Needs root (setcap, setpriv); skips saying why otherwise."""
import glob
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from testlib import QUIET_SETTINGS, eventually  # noqa: E402

NOBODY = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
results = []


def skip_all(why):
    print("1..0 # SKIP " + why)
    sys.exit(0)


def check(name, ok, detail=""):
    results.append(ok)
    print("%s %d - %s" % ("ok" if ok else "not ok", len(results), name))
    if not ok and detail:
        for line in str(detail).splitlines()[-40:]:
            print("# " + line)


def status_fields(pid, tid=None):
    path = "/proc/%d/task/%d/status" % (pid, tid) if tid else "/proc/%d/status" % pid
    fields = {}
    with open(path) as f:
        for line in f:
            k, _, v = line.partition(":")
            fields[k] = v.strip()
    return fields


def caps_of_all_threads(pid):
    """{tid: {CapEff: ..., ...}} of every thread; empty if it has gone."""
    out = {}
    for task in glob.glob("/proc/%d/task/*" % pid):
        try:
            f = status_fields(pid, int(os.path.basename(task)))
        except OSError:
            continue
        out[int(os.path.basename(task))] = {k: f[k] for k in
                                            ("CapEff", "CapPrm", "CapInh", "CapAmb")}
    return out


def no_caps(pid):
    threads = caps_of_all_threads(pid)
    bad = {t: c for t, c in threads.items() if any(int(v, 16) for v in c.values())}
    return bool(threads) and not bad, "threads %d, holding: %r" % (len(threads), bad)


def fds_of(pid):
    out = {}
    for fd in glob.glob("/proc/%d/fd/*" % pid):
        try:
            out[int(os.path.basename(fd))] = os.readlink(fd)
        except OSError:
            pass
    return out


def iter_links():
    """Distinct BPF task-iterator links held by any process."""
    ids = set()
    for info in glob.glob("/proc/[0-9]*/fdinfo/*"):
        try:
            with open(info) as f:
                text = f.read()
        except OSError:
            continue
        if "link_type:\titer" in text:
            for line in text.splitlines():
                if line.startswith("link_id:"):
                    ids.add(int(line.split()[1]))
    return ids


def main():
    build = os.path.abspath(sys.argv[1])
    source = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
    if os.getuid() != 0:
        skip_all("needs root to set file capabilities")
    for tool in ("setcap", "setpriv", "dbus-daemon", "unshare"):
        if shutil.which(tool) is None:
            skip_all(tool + " is not installed")
    if subprocess.run(["/usr/bin/python3", "-c", "import dbusmock"]).returncode != 0:
        skip_all("python3-dbusmock is not installed")
    if iter_links():
        skip_all("a BPF task iterator is already loaded on this machine (another agent?)")

    dest = tempfile.mkdtemp(prefix="smoothtask-loader.")
    os.chmod(dest, 0o755)
    procs = []
    try:
        env = dict(os.environ, DESTDIR=dest)
        subprocess.run(["meson", "install", "-C", build, "--no-rebuild", "--quiet"], env=env,
                       check=True, stdout=subprocess.DEVNULL)
        agent = glob.glob(dest + "/**/bin/smoothtask", recursive=True)[0]
        loader = glob.glob(dest + "/**/libexec/smoothtask-loader", recursive=True)[0]
        schemas = os.path.dirname(glob.glob(dest + "/**/org.smoothtask.Agent.gschema.xml",
                                            recursive=True)[0])
        subprocess.run(["glib-compile-schemas", schemas], check=True)
        # The step `meson install -Dfile-caps=true` runs, without DESTDIR.
        subprocess.run([os.path.join(source, "build-aux", "setcap.sh"), loader],
                       env={k: v for k, v in os.environ.items() if k != "DESTDIR"})
        caps = subprocess.run(["getcap", loader], capture_output=True, text=True).stdout
        if "cap_bpf" not in caps:
            skip_all("setcap did not apply here (no xattr support?)")
        check("the agent binary has no file capabilities",
              subprocess.run(["getcap", agent], capture_output=True, text=True).stdout == "")

        home = os.path.join(dest, "home")
        os.makedirs(os.path.join(home, "config", "glib-2.0", "settings"))
        report = os.path.join(home, "command")
        settings = dict(QUIET_SETTINGS)
        settings["alert-command"] = ("['/bin/sh', '-c', 'ls -l /proc/$$/fd > %s.fds; "
                                     "cat /proc/$$/status > %s.status']" % (report, report))
        with open(os.path.join(home, "config", "glib-2.0", "settings", "keyfile"), "w") as f:
            f.write("[org/smoothtask/Agent]\n")
            for k, v in settings.items():
                f.write("%s=%s\n" % (k, v))
        subprocess.run(["chown", "-R", "65534:65534", home], check=True)

        bus = subprocess.Popen(NOBODY + ["dbus-daemon", "--session", "--nofork",
                                         "--print-address=1"],
                               stdout=subprocess.PIPE, text=True)
        procs.append(bus)
        address = bus.stdout.readline().strip()
        env = {"PATH": "/usr/bin:/bin", "HOME": home, "XDG_CONFIG_HOME": home + "/config",
               "DBUS_SESSION_BUS_ADDRESS": address, "GSETTINGS_BACKEND": "keyfile",
               "GSETTINGS_SCHEMA_DIR": schemas, "LC_ALL": "C.UTF-8"}
        mock_log = os.path.join(home, "mock.log")
        mock = subprocess.Popen(NOBODY + ["/usr/bin/python3", "-m", "dbusmock", "--template",
                                          "notification_daemon", "-l", mock_log],
                                env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        procs.append(mock)
        eventually(lambda: os.path.exists(mock_log), 10)

        r = subprocess.run(NOBODY + [agent, "--check"], env=env, capture_output=True, text=True,
                           timeout=60)
        check("--check as nobody: the loader handed the programs over, the BPF collector works",
              "handed them over; the agent holds no capability" in r.stdout and
              "BPF collector:          works" in r.stdout, r.stdout + r.stderr)
        check("--check names the server at DBUS_SESSION_BUS_ADDRESS", "mock-notify" in r.stdout,
              r.stdout)

        r = subprocess.run(NOBODY + [agent, "--test-notification"], env=env,
                           capture_output=True, text=True, timeout=60)
        check("--test-notification as nobody reaches the server at DBUS_SESSION_BUS_ADDRESS",
              r.returncode == 0, r.stdout + r.stderr)

        # A descriptor the agent must not inherit through the loader.
        leak = open(os.path.join(dest, "leak"), "w")
        os.set_inheritable(leak.fileno(), True)
        log_path = os.path.join(dest, "agent.log")
        with open(log_path, "w") as log:
            agent_proc = subprocess.Popen(NOBODY + [agent, "--verbose"], env=env, stdout=log,
                                          stderr=subprocess.STDOUT, close_fds=False)
        procs.append(agent_proc)
        leak.close()

        def agent_log():
            with open(log_path) as f:
                return f.read()
        started = eventually(lambda: "watching with" in agent_log(), 15)
        check("the agent starts through the loader with the BPF backend",
              started and "watching with the bpf backend" in agent_log(), agent_log())
        pid = agent_proc.pid
        ok, detail = no_caps(pid)
        check("no capability in any of the agent's threads", ok, detail)
        check("no_new_privs is not set", status_fields(pid).get("NoNewPrivs") == "0")
        fds = fds_of(pid)
        check("nothing inherited: the leaked descriptor is closed",
              not any(t.endswith("/leak") for t in fds.values()), fds)
        bpf = [t for t in fds.values() if t.startswith("anon_inode:bpf")]
        check("the handed BPF descriptors (iterator, map, hooks) are there",
              len([t for t in bpf if t == "anon_inode:bpf-prog"]) >= 1 and
              "anon_inode:bpf-map" in bpf and "anon_inode:bpf_link" in bpf, fds)

        busy_link = os.path.join(dest, "st-loader-busy")
        os.symlink("/bin/sh", busy_link)
        busy = subprocess.Popen(NOBODY + [busy_link, "-c", "while :; do :; done"])
        procs.append(busy)
        notified = eventually(lambda: os.path.exists(mock_log) and
                              "st-loader-busy" in open(mock_log).read(), 15)
        check("a busy child is notified through the server at DBUS_SESSION_BUS_ADDRESS",
              notified, agent_log())
        ran = eventually(lambda: os.path.exists(report + ".status"), 10)
        if ran:
            time.sleep(0.3)
            with open(report + ".fds") as f:
                cmd_fds = f.read()
            with open(report + ".status") as f:
                cmd_status = f.read()
        check("the alert-command receives no BPF descriptor",
              ran and "bpf" not in cmd_fds, cmd_fds if ran else agent_log())
        check("the alert-command may gain privileges (no no_new_privs)",
              ran and "NoNewPrivs:\t0" in cmd_status)
        busy.kill()

        # One set of kernel programs per user, whatever they start.
        dumps = [subprocess.Popen(NOBODY + [agent, "--dump", "--interval", "60"], env=env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
                 for _ in range(10)]
        procs.extend(dumps)
        second = subprocess.run(NOBODY + [agent], env=env, capture_output=True, text=True,
                                timeout=30)
        time.sleep(2)
        links = iter_links()
        check("ten --dump and a second agent: one set of programs (%d iterator links)" % len(links),
              len(links) == 1, second.stderr)
        ok, detail = no_caps(dumps[0].pid)
        check("no capability in any thread of --dump", ok, detail)
        for d in dumps:
            d.send_signal(signal.SIGKILL)
        why = dumps[0].communicate()[1]
        check("--dump says why it uses /proc", "holds the kernel programs" in why, why)

        agent_proc.send_signal(signal.SIGTERM)
        check("clean exit on SIGTERM", agent_proc.wait(10) == 0, agent_log())

        # Least exposure: no more of other users' processes than /proc shows.
        def dump_json(prefix=""):
            cmd = "%s %s %s --dump --json --top 0 --interval 0.3 --backend bpf" % (
                prefix, " ".join(NOBODY), agent)
            r = subprocess.run(["sh", "-c", cmd], env=env, capture_output=True, text=True)
            try:
                return json.loads(r.stdout)
            except ValueError:
                return {"processes": [], "error": r.stderr}
        d = dump_json()
        others = [p for p in d["processes"] if p["uid"] != 65534]
        check("others' processes listed, without syscall rates", d.get("backend") == "bpf" and
              others and all(p["syscalls_per_s"] is None for p in others), d.get("error"))
        d = dump_json("unshare -m sh -c 'mount -t proc -o hidepid=invisible proc /proc && exec \"$@\"' -")
        check("hidepid=invisible: only its own processes",
              d["processes"] and {p["uid"] for p in d["processes"]} == {65534}, d.get("error"))
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
        shutil.rmtree(dest, ignore_errors=True)
    print("1..%d" % len(results))
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
