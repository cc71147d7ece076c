#!/usr/bin/python3
"""SmoothTask benchmarks: figures, not pass/fail. Writes docs/PERFORMANCE.md.

usage: tests/bench.py [--build DIR] [--quick] [--write]

Runs are paired (A B A B ...) in one go because the machine is shared and
noisy: ratios matter, not absolute times. --quick shrinks every size so the
test suite can run it (and does not rewrite docs/PERFORMANCE.md unless --write).
"""
import argparse
import json
import os
import platform
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))


def med(xs):
    xs = [x for x in xs if x is not None]
    if not xs:
        return "n/a"
    return f"{statistics.median(xs):.1f} ({min(xs):.1f}–{max(xs):.1f})"


def median(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


class Bench:
    def __init__(self, args):
        self.a = args
        self.build = os.path.abspath(args.build)
        self.agent = os.path.join(self.build, "src", "smoothtask")
        self.getppid = os.path.join(self.build, "tests", "bench-getppid")
        self.pingpong = os.path.join(self.build, "tests", "bench-pingpong")
        self.sample = os.path.join(self.build, "tests", "bench-sample")
        self.lines = []
        self.results = {}

    def out(self, line=""):
        print(line, flush=True)
        self.lines.append(line)

    # 1. hot path ---------------------------------------------------------
    def getppid_ns(self):
        calls = "200000" if self.a.quick else "2000000"
        r = subprocess.run([self.getppid, calls, "3" if self.a.quick else "5"],
                           capture_output=True, text=True, check=True)
        return float(r.stdout)

    def pingpong_ns(self):
        r = subprocess.run([self.pingpong, "20000" if self.a.quick else "100000"],
                           capture_output=True, text=True, check=True)
        return float(r.stdout)

    def attached(self, cmd, ready, env=None):
        """Starts cmd, waits until ready(log) says its programs are attached."""
        log = tempfile.TemporaryFile(mode="w+")
        p = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            log.seek(0)
            if ready(log.read()) or p.poll() is not None:
                break
            time.sleep(0.1)
        time.sleep(0.3)
        return p, log

    def hot_path(self):
        self.out("## 1. Hot path: ns per getppid() (pinned to CPU 0)")
        self.out("")
        syscount = shutil.which("syscount") or "/usr/sbin/syscount"
        have_syscount = os.path.exists(syscount)
        # syscount attaches a classic tracepoint (sys_exit), which needs tracefs.
        if have_syscount and not os.path.exists("/sys/kernel/tracing/events") and os.geteuid() == 0:
            r = subprocess.run(["mount", "-t", "tracefs", "nodev", "/sys/kernel/tracing"],
                               capture_output=True, text=True)
            self.out("(mounted tracefs at /sys/kernel/tracing for syscount)" if r.returncode == 0
                     else "(could not mount tracefs: " + r.stderr.strip() + ")")
            self.out("")
        rounds = 2 if self.a.quick else 5
        none, ours, theirs = [], [], []
        # The same states, with a pipe ping-pong: 2 context switches and 4
        # syscalls per round trip, the case that taxes the switch hook.
        sw_none, sw_ours, sw_theirs = [], [], []
        env = dict(os.environ, GSETTINGS_BACKEND="memory",
                   GSETTINGS_SCHEMA_DIR=os.path.join(self.build, "data"),
                   DBUS_SESSION_BUS_ADDRESS="unix:path=/nonexistent")
        for _ in range(rounds):
            none.append(self.getppid_ns())
            sw_none.append(self.pingpong_ns())
            p, log = self.attached([self.agent, "--backend", "bpf", "--verbose"],
                                   lambda t: "watching with" in t, env)
            ok = p.poll() is None
            ours.append(self.getppid_ns() if ok else None)
            sw_ours.append(self.pingpong_ns() if ok else None)
            p.send_signal(signal.SIGTERM)
            p.wait()
            none.append(self.getppid_ns())
            if have_syscount:
                p, log = self.attached([syscount], lambda t: "Tracing" in t or "Ctrl-C" in t)
                ok = p.poll() is None
                theirs.append(self.getppid_ns() if ok else None)
                sw_theirs.append(self.pingpong_ns() if ok else None)
                if not ok:
                    log.seek(0)
                    self.syscount_error = log.read().strip().splitlines()[-1:] or ["?"]
                p.send_signal(signal.SIGINT)
                try:
                    p.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
        base = median(none)
        o_ours = median(ours) - base if median(ours) is not None else None
        o_theirs = median(theirs) - base if median(theirs) is not None else None
        self.out("| attached | ns per call, median (min–max) | added |")
        self.out("|---|---|---|")
        self.out(f"| nothing | {med(none)} | — |")
        self.out(f"| SmoothTask (`smoothtask --backend bpf`) | {med(ours)} | "
                 f"{o_ours:+.1f} |" if o_ours is not None else "| SmoothTask | failed | |")
        if have_syscount and o_theirs is not None:
            self.out(f"| libbpf-tools `syscount` | {med(theirs)} | {o_theirs:+.1f} |")
        else:
            self.out(f"| libbpf-tools `syscount` | not run: "
                     f"{getattr(self, 'syscount_error', ['not installed'])[0]} | |")
        self.out("")
        self.out("Pipe ping-pong on one CPU, ns per round trip (2 switches, 4 syscalls):")
        self.out("")
        self.out("| attached | ns per round trip | added |")
        self.out("|---|---|---|")
        sw_base = median(sw_none)
        self.out(f"| nothing | {med(sw_none)} | — |")
        for label, xs in (("SmoothTask", sw_ours), ("syscount", sw_theirs)):
            m = median(xs)
            self.out(f"| {label} | {med(xs)} | {m - sw_base:+.1f} |" if m is not None
                     else f"| {label} | not run | |")
        if o_ours is not None and o_theirs:
            ratio = o_ours / o_theirs
            self.results["overhead_ratio"] = ratio
            self.out("")
            self.out(f"overhead(SmoothTask) / overhead(syscount) = **{ratio:.2f}** "
                     f"(target ≤ 0.5: {'met' if ratio <= 0.5 else 'missed'})")
        self.out("")

    # 2. cost of one sample ---------------------------------------------------
    def top_cpu_ms(self, runs):
        times = []
        for _ in range(runs):
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            subprocess.run(["top", "-b", "-n", "1"], stdout=subprocess.DEVNULL, check=True)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            times.append(((after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)) * 1e3)
        return times

    def sample_cost(self):
        self.out("## 2. CPU time of one sample, by number of extra idle processes")
        self.out("")
        self.out("`bench-sample BACKEND N`: CPU time (CLOCK_PROCESS_CPUTIME_ID) of "
                 "`st_collector_sample()`, the call the agent makes each interval; "
                 "`top -b -n 1`: CPU time of the whole command (rusage of children).")
        self.out("")
        self.out("| extra processes | processes seen | BPF ms | /proc ms | top ms | /proc ÷ BPF | top ÷ BPF |")
        self.out("|---|---|---|---|---|---|---|")
        sizes = [100, 500] if self.a.quick else [100, 1000, 5000]
        n = "5" if self.a.quick else "20"
        for size in sizes:
            sleepers = [subprocess.Popen(["sleep", "1000"]) for _ in range(size)]
            try:
                bpf, proc, top = [], [], []
                seen = "?"
                for _ in range(2 if self.a.quick else 3):
                    r = subprocess.run([self.sample, "bpf", n], capture_output=True, text=True)
                    if r.returncode == 0:
                        bpf.append(float(r.stdout.split()[0]))
                        seen = r.stdout.split()[3]
                    r = subprocess.run([self.sample, "proc", n], capture_output=True, text=True,
                                       check=True)
                    proc.append(float(r.stdout.split()[0]))
                    seen = seen if bpf else r.stdout.split()[3]
                    top += self.top_cpu_ms(1)
                b, p, t = median(bpf), median(proc), median(top)
                r1 = f"{p / b:.0f}×" if b else "n/a"
                r2 = f"{t / b:.0f}×" if b else "n/a"
                if size == sizes[-1] and b:
                    self.results["proc_over_bpf"] = p / b
                    self.results["top_over_bpf"] = t / b
                self.out(f"| {size} | {seen} | {med(bpf)} | {med(proc)} | {med(top)} | {r1} | {r2} |")
            finally:
                for s in sleepers:
                    s.kill()
                for s in sleepers:
                    s.wait()
        if "proc_over_bpf" in self.results:
            ok = self.results["proc_over_bpf"] >= 20 and self.results["top_over_bpf"] >= 20
            self.out("")
            self.out(f"Target at {sizes[-1]}: BPF ≥ 20× cheaper than /proc and than top: "
                     f"{'met' if ok else 'missed'}")
        self.out("")

    # 3. footprint ------------------------------------------------------------
    @staticmethod
    def proc_stats(pid):
        try:
            rss = pss = 0
            with open(f"/proc/{pid}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        rss = int(line.split()[1])
            try:
                with open(f"/proc/{pid}/smaps_rollup") as f:
                    for line in f:
                        if line.startswith("Pss:"):
                            pss = int(line.split()[1])
            except OSError:
                pass
            stat = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
            cpu = (int(stat[11]) + int(stat[12])) / os.sysconf("SC_CLK_TCK")
            return rss, pss, cpu
        except (OSError, IndexError):
            return None

    def footprint(self):
        secs = 10 if self.a.quick else 60
        self.out(f"## 3. Footprint over {secs} s at the default interval (after 5 s)")
        self.out("")
        tmp = tempfile.mkdtemp(prefix="st-bench-")
        env = dict(os.environ, GSETTINGS_BACKEND="memory",
                   GSETTINGS_SCHEMA_DIR=os.path.join(self.build, "data"),
                   DBUS_SESSION_BUS_ADDRESS="unix:path=" + os.path.join(tmp, "nobus"))
        procs = {"SmoothTask": subprocess.Popen([self.agent], env=env, stdout=subprocess.DEVNULL,
                                                stderr=subprocess.DEVNULL)}
        peers = {"psi-notify": ["dbus-run-session", "--", "psi-notify"],
                 "nohang": ["nohang", "--monitor", "--config", "/etc/nohang/nohang-desktop.conf"]}
        for name, cmd in peers.items():
            if shutil.which(cmd[-1] if name == "psi-notify" else cmd[0]):
                procs[name] = subprocess.Popen(cmd, stdout=subprocess.DEVNULL,
                                               stderr=subprocess.DEVNULL, env=dict(os.environ, HOME=tmp))
        def pid_of(name, p):
            if name != "psi-notify":
                return p.pid
            r = subprocess.run(["pgrep", "-n", "-x", "psi-notify"], capture_output=True, text=True)
            return int(r.stdout.split()[0]) if r.stdout.strip() else None

        # Start-up (loading and verifying BPF programs, Python's imports) is
        # not footprint: CPU time is counted from a 5 s warm-up on.
        time.sleep(5)
        start = {name: self.proc_stats(pid_of(name, p)) for name, p in procs.items()}
        time.sleep(secs)
        rows = {}
        for name, p in procs.items():
            pid = pid_of(name, p)
            st = self.proc_stats(pid) if pid else None
            if st and start.get(name):
                st = (st[0], st[1], st[2] - start[name][2], st[2])
            elif st:
                st = (st[0], st[1], st[2], st[2])
            rows[name] = st
        for p in procs.values():
            p.terminate()
            try:
                p.wait(timeout=5)
            except subprocess.TimeoutExpired:
                p.kill()
        shutil.rmtree(tmp, ignore_errors=True)
        self.out(f"| program | RSS KiB | PSS KiB | CPU time s over the {secs} s | CPU time s since start |")
        self.out("|---|---|---|---|---|")
        for name in ["SmoothTask", "psi-notify", "nohang"]:
            st = rows.get(name)
            if st:
                self.out(f"| {name} | {st[0]} | {st[1]} | {st[2]:.2f} | {st[3]:.2f} |")
            else:
                self.out(f"| {name} | not running here | | |")
        ours, psi, noh = rows.get("SmoothTask"), rows.get("psi-notify"), rows.get("nohang")
        if ours and psi:
            self.out("")
            self.out(f"RSS ÷ psi-notify's: {ours[0] / psi[0]:.2f} (target ≤ 1.25: "
                     f"{'met' if ours[0] <= 1.25 * psi[0] else 'missed'})")
        if ours and noh:
            self.out(f"CPU time vs nohang's: {ours[2]:.2f} s vs {noh[2]:.2f} s (target ≤: "
                     f"{'met' if ours[2] <= noh[2] else 'missed'})")
        self.out("")

    # 4. alert latency --------------------------------------------------------
    def latency(self):
        sustain = 2 if self.a.quick else 5
        self.out(f"## 4. Alert latency (sustain-seconds = {sustain}, interval 1 s)")
        self.out("")
        script = os.path.join(os.path.dirname(__file__), "bench-latency.py")
        runs = 1 if self.a.quick else 3
        r = subprocess.run(["dbus-run-session", "--", "/usr/bin/python3", script, self.build,
                            str(sustain), str(runs)], capture_output=True, text=True, timeout=300)
        lat = [float(x) for x in r.stdout.split()] if r.returncode == 0 else []
        if not lat:
            self.out("not measured: " + (r.stderr.strip().splitlines() or ["?"])[-1])
        else:
            m = median(lat)
            self.out(f"From the busy child's start to the Notify call: {med(lat)} s "
                     f"(target ≤ sustain + 1 interval = {sustain + 1} s: "
                     f"{'met' if m <= sustain + 1 else 'missed'})")
        self.out("")

    def header(self):
        cpu = "?"
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
        libbpf = subprocess.run(["pkg-config", "--modversion", "libbpf"], capture_output=True,
                                text=True).stdout.strip()
        self.out("# Performance")
        self.out("")
        self.out(f"Written by `./dev.sh bench` (tests/bench.py) on {time.strftime('%Y-%m-%d')}. "
                 f"Machine: Linux {platform.release()}, {cpu}, {os.cpu_count()} CPUs, "
                 f"libbpf {libbpf}. Shared and noisy: runs are paired and reported as "
                 "median (min–max).")
        self.out("")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--write", action="store_true")
    ap.add_argument("--only", choices=["hot-path", "sample", "footprint", "latency"])
    args = ap.parse_args()
    b = Bench(args)
    b.header()
    if os.geteuid() != 0:
        b.out("(not root: BPF figures need CAP_BPF and CAP_PERFMON; they are skipped)")
    sections = {"hot-path": b.hot_path, "sample": b.sample_cost, "footprint": b.footprint,
                "latency": b.latency}
    for name, run in sections.items():
        if args.only in (None, name):
            run()
    if (not args.quick or args.write) and args.only is None:
        with open(os.path.join(ROOT, "docs", "PERFORMANCE.md"), "w") as f:
            f.write("\n".join(b.lines) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
