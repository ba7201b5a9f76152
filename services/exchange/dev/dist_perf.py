"""Place-order load through nginx against the distributed topology, with the CPU cost of every
process, side by side with the embedded exchange (developer tool, loopback only).

Run it as the topology launcher's command (the launcher sets EXCHANGE_BASE_URL and is our parent):

    cargo build --release -p exchange -p system-tests --bins
    EXCHANGE_BIN=target/release/exchange RUST_LOG=warn \
        target/release/topology .venv/bin/python services/exchange/dev/dist_perf.py

(.venv's python has pymongo, installed with SecantusDB: with it the run also reports SecantusDB's
wire requests and opcounters per order from serverStatus.)

Environment: ROUNDS (3), VUS (64), DURATION (20s), USERS (32), STOCKS (8), EMBEDDED (1: after each
distributed run, run perf_run.py against target/release/exchange with the same k6 parameters),
K6 (.venv/bin/k6), OUT (a JSON lines file for the per-round records).

Per round it prints the orders/s, p50/p99 of placeStockOrder, the 1-minute load average at the
start, and for every process of the topology (found as descendants of the launcher, plus the
machine's RabbitMQ `beam.smp`, plus k6) the CPU seconds used during the k6 scenario (utime+stime
from /proc/PID/stat, sampled every 0.25 s; the window is the last DURATION seconds of the k6 run,
so k6's setup of users and stocks is left out), the CPU-ms per order and the cores it kept busy.
`others` is the machine's busy time (/proc/stat) not accounted for by these processes: the other
work on the machine during the run.
"""
import json, os, re, statistics, subprocess, sys, tempfile, threading, time
from collections import defaultdict

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
TICK = os.sysconf("SC_CLK_TCK")
ENV = {k: os.environ.get(k, d) for k, d in [("VUS", "64"), ("DURATION", "20s"), ("USERS", "32"),
                                             ("STOCKS", "8"), ("ROUNDS", "3"), ("EMBEDDED", "1")]}
K6 = os.environ.get("K6", os.path.join(ROOT, ".venv/bin/k6"))
BASE = os.environ["EXCHANGE_BASE_URL"]
assert re.match(r"^http://127\.", BASE), BASE
LAUNCHER = os.getppid()


def read(path):
    with open(path) as f:
        return f.read()


def stat_fields(pid):
    text = read(f"/proc/{pid}/stat")
    head, tail = text.rsplit(")", 1)
    return head.split("(", 1)[1], tail.split()


def ticks(pid):
    fields = stat_fields(pid)[1]
    return int(fields[11]) + int(fields[12])


def machine_busy():
    fields = [int(x) for x in read("/proc/stat").splitlines()[0].split()[1:]]
    return sum(fields) - fields[3] - fields[4]  # minus idle and iowait


def all_pids():
    return [int(p) for p in os.listdir("/proc") if p.isdigit()]


def label(pid):
    comm, _ = stat_fields(pid)
    argv = read(f"/proc/{pid}/cmdline").split("\0")
    if comm == "exchange":
        role = argv[1] if len(argv) > 1 else "?"
        if role == "engine" and "--shard" in argv:
            role += "-" + argv[argv.index("--shard") + 1]
        return role
    if "secantus" in " ".join(argv):
        return "secantusd-py"
    if comm in ("nginx", "redis-server", "beam.smp"):
        return comm
    return "launcher-misc"


def processes():
    """pid -> label: the launcher's descendants and the machine's RabbitMQ."""
    parent = {}
    for pid in all_pids():
        try:
            parent[pid] = int(stat_fields(pid)[1][1])
        except (OSError, IndexError):
            pass
    found = {}
    for pid in parent:
        up = pid
        while up > 1 and up != LAUNCHER:
            up = parent.get(up, 1)
        try:
            if up == LAUNCHER and pid != os.getpid():
                found[pid] = label(pid)
            elif stat_fields(pid)[0] == "beam.smp":
                found[pid] = "beam.smp"
        except OSError:
            pass
    return found


def thread_split(pid):
    split = defaultdict(int)
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            name = read(f"/proc/{pid}/task/{tid}/comm").strip()
            split[re.sub(r"[-_]?\d+$", "", name)] += ticks(f"{pid}/task/{tid}")
        except OSError:
            pass
    return split


def mongo_client(procs):
    """A pymongo client of the topology's SecantusDB (pymongo comes with it in .venv), or None."""
    try:
        import pymongo
    except ImportError:
        return None
    for pid, name in procs.items():
        argv = read(f"/proc/{pid}/cmdline").split("\0")
        if name == "secantusd-py" and "--port" in argv:
            port = argv[argv.index("--port") + 1]
            return pymongo.MongoClient(f"mongodb://127.0.0.1:{port}/?directConnection=true")
    return None


def mongo_ops(client):
    """Wire requests and opcounters of SecantusDB so far (serverStatus)."""
    if client is None:
        return {}
    try:
        status = client.admin.command("serverStatus")
    except Exception:
        return {}
    ops = dict(status.get("opcounters", {}))
    ops["requests"] = status.get("network", {}).get("numRequests", 0)
    return ops


def snapshot(procs, k6_pid, mongo=None):
    cpu = defaultdict(int)
    threads = {}
    for pid, name in procs.items():
        try:
            cpu[name] += ticks(pid)
            if name not in ("nginx", "beam.smp", "secantusd-py", "redis-server", "launcher-misc"):
                threads[name] = thread_split(pid)
        except OSError:
            pass
    try:
        cpu["k6"] += ticks(k6_pid)
    except OSError:
        pass
    return time.time(), machine_busy(), dict(cpu), threads, mongo_ops(mongo)


def distributed_run(round_no):
    procs = processes()
    mongo = mongo_client(procs)
    seconds = float(ENV["DURATION"].rstrip("s"))
    summary = tempfile.mktemp(prefix="dist-perf-", suffix=".json")
    load1 = os.getloadavg()[0]
    k6 = subprocess.Popen([K6, "run", "--quiet", "--summary-export", summary, "-e", f"BASE_URL={BASE}",
                           "-e", f"DURATION={ENV['DURATION']}", "-e", f"VUS={ENV['VUS']}",
                           "-e", f"USERS={ENV['USERS']}", "-e", f"STOCKS={ENV['STOCKS']}",
                           "-e", "SELL_SHARE=0.55", "-e", "READ_VUS=4",
                           os.path.join(ROOT, "tests/k6/place_orders.js")],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    samples, stop = [], threading.Event()

    def sample():
        while not stop.is_set():
            samples.append(snapshot(procs, k6.pid, mongo))
            time.sleep(0.25)
    sampler = threading.Thread(target=sample)
    sampler.start()
    out, _ = k6.communicate()
    stop.set(); sampler.join()
    if k6.returncode not in (0, 99):  # 99: a threshold failed (reported, not fatal)
        print(out)
        raise SystemExit(f"k6 failed with {k6.returncode}")
    # The last sample taken while k6 was alive ends the window (k6 is reaped by communicate()).
    end = next(s for s in reversed(samples) if "k6" in s[2])
    start = min(samples, key=lambda s: abs(s[0] - (end[0] - seconds)))
    window = end[0] - start[0]
    s = json.load(open(summary))["metrics"]
    os.remove(summary)
    orders = s.get("orders_accepted", {}).get("count", 0) + s.get("orders_rejected", {}).get("count", 0)
    lat = s["order_latency_ms"]
    cpu = {k: (v - start[2].get(k, 0)) / TICK for k, v in end[2].items()}
    busy = (end[1] - start[1]) / TICK
    cpu["others"] = busy - sum(cpu.values())
    threads = {}
    for name, split in end[3].items():
        delta = {t: (v - start[3].get(name, {}).get(t, 0)) / TICK for t, v in split.items()}
        total = sum(delta.values()) or 1
        threads[name] = {t: round(100 * v / total) for t, v in sorted(delta.items(), key=lambda kv: -kv[1]) if v / total >= 0.05}
    mongo_per_order = {k: round((v - start[4].get(k, 0)) / max(orders, 1), 2) for k, v in end[4].items()}
    record = {
        "mode": "distributed", "round": round_no, "vus": int(ENV["VUS"]), "orders": orders,
        "rate": orders / seconds, "p50_ms": lat["med"], "p99_ms": lat["p(99)"], "load1": load1,
        "http_failed": s.get("http_req_failed", {}).get("value", 0), "window_s": window,
        "cpu_s": cpu, "machine_busy_cores": busy / window, "threads": threads,
        "mongo_ops_per_order": mongo_per_order,
    }
    print(f"distributed round {round_no}: vus={ENV['VUS']} orders={orders} rate={record['rate']:.0f}/s "
          f"p50={lat['med']:.1f}ms p99={lat['p(99)']:.1f}ms load1={load1:.2f} "
          f"machine_busy={busy / window:.2f} cores http_failed={record['http_failed']:.4f}", flush=True)
    for name, seconds_used in sorted(cpu.items(), key=lambda kv: -kv[1]):
        print(f"    {name:14s} cpu={seconds_used:6.2f}s  {1e3 * seconds_used / max(orders, 1):6.2f} ms/order  "
              f"{seconds_used / window:4.2f} cores  {threads.get(name, '')}", flush=True)
    print(f"    SecantusDB requests per order (serverStatus): {mongo_per_order}", flush=True)
    if os.environ.get("SHOW_K6"):
        print(out)
    return record


def embedded_run(round_no):
    binary = os.environ.get("EXCHANGE_BIN", os.path.join(ROOT, "target/release/exchange"))
    out = subprocess.run([sys.executable, os.path.join(ROOT, "services/exchange/dev/perf_run.py"), binary, "embedded"],
                         env={**os.environ, "K6": K6, "SHARDS": "2"}, capture_output=True, text=True)
    line = out.stdout.strip().splitlines()[-1] if out.stdout.strip() else out.stderr
    print(f"embedded round {round_no}: {line}", flush=True)
    m = re.search(r"orders=(\d+).*rate=(\d+)/s p50=([\d.]+)ms p99=([\d.]+)ms.*cpu_us_per_order=(\d+) load1=([\d.]+)", line)
    if not m:
        return None
    return {"mode": "embedded", "round": round_no, "orders": int(m[1]), "rate": float(m[2]),
            "p50_ms": float(m[3]), "p99_ms": float(m[4]), "cpu_ms_per_order": int(m[5]) / 1e3, "load1": float(m[6])}


def main():
    records = []
    out = open(os.environ["OUT"], "a") if os.environ.get("OUT") else None
    for round_no in range(1, int(ENV["ROUNDS"]) + 1):
        runs = [distributed_run(round_no)]
        if ENV["EMBEDDED"] == "1":
            runs.append(embedded_run(round_no))
        for record in runs:
            if record:
                records.append(record)
                if out:
                    out.write(json.dumps(record) + "\n"); out.flush()
    dist = [r for r in records if r["mode"] == "distributed"]
    emb = [r for r in records if r["mode"] == "embedded"]
    med = lambda rs, k: statistics.median(r[k] for r in rs)
    print(f"\nmedians over {len(dist)} distributed runs: rate={med(dist, 'rate'):.0f}/s "
          f"p50={med(dist, 'p50_ms'):.1f}ms p99={med(dist, 'p99_ms'):.1f}ms load1={med(dist, 'load1'):.2f}")
    names = sorted({n for r in dist for n in r["cpu_s"]},
                   key=lambda n: -statistics.median(r["cpu_s"].get(n, 0) / max(r["orders"], 1) for r in dist))
    for name in names:
        per = statistics.median(1e3 * r["cpu_s"].get(name, 0) / max(r["orders"], 1) for r in dist)
        cores = statistics.median(r["cpu_s"].get(name, 0) / r["window_s"] for r in dist)
        print(f"    {name:14s} {per:6.2f} ms/order  {cores:4.2f} cores")
    if emb:
        print(f"medians over {len(emb)} embedded runs: rate={med(emb, 'rate'):.0f}/s p50={med(emb, 'p50_ms'):.1f}ms "
              f"p99={med(emb, 'p99_ms'):.1f}ms cpu={med(emb, 'cpu_ms_per_order'):.3f} ms/order load1={med(emb, 'load1'):.2f}")
        ratios = [e["rate"] / d["rate"] for d in dist for e in emb if e["round"] == d["round"] and d["rate"]]
        if ratios:
            print(f"embedded/distributed throughput ratio per round: {[round(r, 1) for r in ratios]} "
                  f"(median {statistics.median(ratios):.1f})")


if __name__ == "__main__":
    main()
