"""Kill -9 under load, restart, check conservation (developer tool, loopback only).

Usage: python3 crash_check.py <path to exchange binary> [seconds of load before the kill]
Starts the exchange on 127.0.0.1:18090 with a fresh data dir under /tmp/crash, registers 8 users,
runs 16 threads of limit sells / market buys / cancels, kill -9s the process, restarts it on the
same data dir and checks: total cash == deposits, per stock holdings + open sell remainders ==
shares added, and that a new order is accepted after the restart.
"""
import json, os, random, signal, subprocess, sys, threading, time, urllib.request, shutil
os.makedirs("/tmp/crash", exist_ok=True)
BIN = sys.argv[1]; PORT = 18090; DATA = "/tmp/crash/data"; B = f"http://127.0.0.1:{PORT}"
shutil.rmtree(DATA, ignore_errors=True)
def start():
    p = subprocess.Popen([BIN, "--listen", f"127.0.0.1:{PORT}", "--data-dir", DATA, "--shards", "2", "--bcrypt-cost", "4"], stdout=open("/tmp/crash/log", "a"), stderr=subprocess.STDOUT)
    for _ in range(200):
        try:
            urllib.request.urlopen(B + "/health", timeout=1); return p
        except Exception: time.sleep(0.05)
    raise SystemExit("no health")
def call(method, path, body=None, token=None):
    req = urllib.request.Request(B + path, method=method, data=None if body is None else json.dumps(body).encode(), headers={"Content-Type": "application/json", **({"token": token} if token else {})})
    try:
        with urllib.request.urlopen(req, timeout=10) as r: return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e: return e.code, json.loads(e.read())
p = start()
users = []
for i in range(8):
    call("POST", "/authentication/register", {"user_name": f"u{i}", "password": "p", "name": "n"})
    users.append(call("POST", "/authentication/login", {"user_name": f"u{i}", "password": "p"})[1]["data"]["token"])
stocks = [call("POST", "/setup/createStock", {"stock_name": f"S{i}"}, users[0])[1]["data"]["stock_id"] for i in range(4)]
for t in users:
    call("POST", "/transaction/addMoneyToWallet", {"amount": 100000}, t)
    for s in stocks: call("POST", "/setup/addStockToUser", {"stock_id": s, "quantity": 1000}, t)
DEPOSITS = 8 * 100000 * 100; SHARES = 8 * 1000
stop = False; acked = [0]
def worker(seed):
    rnd = random.Random(seed)
    while not stop:
        t = rnd.choice(users); s = rnd.choice(stocks)
        try:
            r = rnd.random()
            if r < 0.5: call("POST", "/engine/placeStockOrder", {"stock_id": s, "is_buy": False, "order_type": "LIMIT", "quantity": rnd.randint(1, 20), "price": f"{rnd.randint(100, 300)/100:.2f}"}, t)
            elif r < 0.9: call("POST", "/engine/placeStockOrder", {"stock_id": s, "is_buy": True, "order_type": "MARKET", "quantity": rnd.randint(1, 30), "price": None}, t)
            else:
                txs = call("GET", "/transaction/getStockTransactions", None, t)[1]["data"]
                live = [x for x in txs if x["order_status"] in ("IN_PROGRESS", "PARTIALLY_COMPLETE")]
                if live: call("POST", "/engine/cancelStockTransaction", {"stock_tx_id": rnd.choice(live)["stock_tx_id"]}, t)
            acked[0] += 1
        except Exception: pass
ths = [threading.Thread(target=worker, args=(i,)) for i in range(16)]
[th.start() for th in ths]
time.sleep(float(sys.argv[2]) if len(sys.argv) > 2 else 4)
os.kill(p.pid, signal.SIGKILL); p.wait(); stop = True
[th.join() for th in ths]
p = start()
def cents(x): return round(float(x) * 100)
cash = 0; shares = {s: 0 for s in stocks}
for t in users:
    cash += cents(call("GET", "/transaction/getWalletBalance", None, t)[1]["data"]["balance"])
    for h in call("GET", "/transaction/getStockPortfolio", None, t)[1]["data"]: shares[h["stock_id"]] += h["quantity_owned"]
    txs = call("GET", "/transaction/getStockTransactions", None, t)[1]["data"]
    filled = {}
    for x in txs:
        if x["parent_stock_tx_id"]: filled[x["parent_stock_tx_id"]] = filled.get(x["parent_stock_tx_id"], 0) + x["quantity"]
    for x in txs:
        if x["parent_stock_tx_id"] is None and x["order_status"] in ("IN_PROGRESS", "PARTIALLY_COMPLETE") and not x["is_buy"]:
            shares[x["stock_id"]] += x["quantity"] - filled.get(x["stock_tx_id"], 0)
print("requests before kill:", acked[0])
print("cash", cash, "expected", DEPOSITS, "OK" if cash == DEPOSITS else "MISMATCH")
print("shares", shares, "expected", SHARES, "OK" if all(v == SHARES for v in shares.values()) else "MISMATCH")
st, _ = call("POST", "/engine/placeStockOrder", {"stock_id": stocks[0], "is_buy": False, "order_type": "LIMIT", "quantity": 1, "price": 1}, users[0])
print("order after restart:", st)
p.send_signal(signal.SIGTERM); p.wait()
