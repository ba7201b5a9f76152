"""One measured place-order load run (developer tool, loopback only).

Usage: python3 perf_run.py <exchange binary> [label]
Environment: VUS (64), DURATION (20s), USERS (32), STOCKS (8), SHARDS (2), K6 (.venv/bin/k6).

Starts the binary on a free 127.0.0.1 port with a fresh temporary data dir (RUST_LOG=warn, bcrypt
cost 4), runs tests/k6/place_orders.js with the same `-e` parameters as scripts/load, and prints
one line: orders/s, p50/p99 of placeStockOrder, CPU-us per order (utime+stime of the process from
/proc/PID/stat, from health to the end of the run, divided by the orders answered) and
the CPU split by thread name, plus the 1-minute load average at the start.
"""
import json, os, re, shutil, socket, subprocess, sys, tempfile, threading, time, urllib.request
from collections import defaultdict

BIN = sys.argv[1]
LABEL = sys.argv[2] if len(sys.argv) > 2 else os.path.basename(BIN)
ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
K6 = os.environ.get("K6", os.path.join(ROOT, ".venv/bin/k6"))
TICK = os.sysconf("SC_CLK_TCK")
env = {k: os.environ.get(k, d) for k, d in
       [("VUS", "64"), ("DURATION", "20s"), ("USERS", "32"), ("STOCKS", "8"), ("SHARDS", "2")]}


def cpu_ticks(path):
    fields = open(path).read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime, stime


def threads(pid):
    split = defaultdict(int)
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            name = open(f"/proc/{pid}/task/{tid}/comm").read().strip()
            split[re.sub(r"[-_]?\d+$", "", name)] += cpu_ticks(f"/proc/{pid}/task/{tid}/stat")
        except OSError:
            pass
    return split


sock = socket.socket(); sock.bind(("127.0.0.1", 0)); port = sock.getsockname()[1]; sock.close()
data = tempfile.mkdtemp(prefix="perf-run-")
base = f"http://127.0.0.1:{port}"
log = open(data + ".log", "w")
proc = subprocess.Popen([BIN, "--listen", f"127.0.0.1:{port}", "--data-dir", data, "--shards",
                         env["SHARDS"], "--bcrypt-cost", "4"], stdout=log, stderr=subprocess.STDOUT,
                        env={**os.environ, "RUST_LOG": os.environ.get("RUST_LOG", "warn")})
try:
    for _ in range(300):
        try:
            urllib.request.urlopen(base + "/health", timeout=1); break
        except Exception:
            time.sleep(0.1)
    load1 = os.getloadavg()[0]
    summary = data + ".summary.json"
    k6 = subprocess.Popen([K6, "run", "--quiet", "--summary-export", summary, "-e", f"BASE_URL={base}",
                           "-e", f"DURATION={env['DURATION']}", "-e", f"VUS={env['VUS']}",
                           "-e", f"USERS={env['USERS']}", "-e", f"STOCKS={env['STOCKS']}",
                           "-e", "SELL_SHARE=0.55", "-e", "READ_VUS=4",
                           os.path.join(ROOT, "tests/k6/place_orders.js")],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    # CPU is counted from health to the end of the run, so it includes k6's setup (32 bcrypt-4
    # registrations and logins, ~300 setup calls: well under 2% of a run's CPU).
    samples = []
    stop = threading.Event()
    def sample():
        while not stop.is_set():
            try:
                samples.append((time.time(), cpu_ticks(f"/proc/{proc.pid}/stat"), dict(threads(proc.pid))))
            except OSError:
                break
            time.sleep(0.5)
    sampler = threading.Thread(target=sample); sampler.start()
    out, _ = k6.communicate()
    stop.set(); sampler.join()
    s = json.load(open(summary))["metrics"]
    accepted = s.get("orders_accepted", {}).get("count", 0)
    rejected = s.get("orders_rejected", {}).get("count", 0)
    orders = accepted + rejected
    lat = s["order_latency_ms"]
    seconds = float(env["DURATION"].rstrip("s"))
    end_t, end_cpu, end_threads = samples[-1]
    start = samples[0]
    cpu_s = (end_cpu - start[1]) / TICK
    split = {k: (v - start[2].get(k, 0)) / TICK for k, v in end_threads.items()}
    total = sum(split.values()) or 1
    split_txt = " ".join(f"{k}={100 * v / total:.0f}%" for k, v in sorted(split.items(), key=lambda kv: -kv[1]) if v / total >= 0.02)
    failed = s.get("http_req_failed", {}).get("value", 0)
    print(f"{LABEL}: vus={env['VUS']} users={env['USERS']} orders={orders} ({rejected} rejected) "
          f"rate={orders / seconds:.0f}/s p50={lat['med']:.1f}ms p99={lat['p(99)']:.1f}ms "
          f"cpu={cpu_s:.2f}s cpu_us_per_order={1e6 * cpu_s / max(orders, 1):.0f} load1={load1:.2f} "
          f"http_failed={failed:.4f} threads: {split_txt}", flush=True)
    if os.environ.get("SHOW_K6"):
        print(out)
finally:
    proc.terminate(); proc.wait()
    log.close()
    shutil.rmtree(data, ignore_errors=True)
    for f in (data + ".log", data + ".summary.json"):
        if os.path.exists(f) and not os.environ.get("KEEP"):
            os.remove(f)
