#!/usr/bin/env python3
"""Throughput and ratios from criterion's estimates of the `throughput` bench.

  summary.py CRITERION_DIR            one run: ops/s per engine and workload, ratios vs peers;
                                      prints the run as one JSON line too (append it to a file)
  summary.py --median RUNS.jsonl      the median over runs of each figure and of each ratio
                                      (ratios are taken within each run, then the median)
"""
import json, os, statistics, sys

STREAM = 200_000  # commands per iteration (benches/throughput.rs)
WORKLOADS = ["normal", "deep", "fast"]
ENGINES = ["ours_full", "ours", "nanobook", "matchcore"]


def one_run(root):
    run = {}
    for w in WORKLOADS:
        for e in ENGINES:
            path = os.path.join(root, w, e, "new", "estimates.json")
            with open(path) as f:
                ns = json.load(f)["median"]["point_estimate"]
            run[f"{w}/{e}"] = STREAM / (ns * 1e-9)
        run[f"{w}/ratio_nanobook"] = run[f"{w}/ours"] / run[f"{w}/nanobook"]
        run[f"{w}/ratio_matchcore"] = run[f"{w}/ours"] / run[f"{w}/matchcore"]
    run["deep_vs_normal"] = run["deep/ours_full"] / run["normal/ours_full"]
    return run


def show(run, label):
    print(f"{label}: M ops/s (ours_full = full mix with reduces; others = peer mix)")
    print(f"{'workload':<8} " + " ".join(f"{e:>10}" for e in ENGINES) + f" {'x nanobook':>11} {'x matchcore':>12}")
    for w in WORKLOADS:
        row = " ".join(f"{run[f'{w}/{e}'] / 1e6:>10.2f}" for e in ENGINES)
        print(f"{w:<8} {row} {run[f'{w}/ratio_nanobook']:>11.2f} {run[f'{w}/ratio_matchcore']:>12.2f}")
    print(f"deep / normal (ours_full): {run['deep_vs_normal']:.2f}")


if __name__ == "__main__":
    if sys.argv[1] == "--median":
        with open(sys.argv[2]) as f:
            runs = [json.loads(line) for line in f if line.strip()]
        median = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
        show(median, f"median of {len(runs)} runs")
    else:
        run = one_run(sys.argv[1])
        show(run, "this run")
        print(json.dumps(run))
