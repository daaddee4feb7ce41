#!/usr/bin/env python3
"""Switchyard's CPU device against ONNX Runtime on the same machine, side by side.

  bench/compare_ort.sh [--rounds R] [--requests N] [--threads 1,2] [--json FILE] [MODEL[:NAME=D0,D1,...]]...

For every model and thread count, ORT (bench/ort_bench.js, onnxruntime-node from bench/.ort) and
`switchyard bench --device cpu:0 --cpu-threads T --sync-only` run interleaved, R rounds of N sync
predictions each; the report gives the median over rounds of each side's median latency, their
ratio (Switchyard / ORT, below 1 is faster) and the geometric mean per thread count, plus
Switchyard with its default threading. Then loads (ORT's session create against Switchyard's
uncached load and its cached load in a fresh `switchyard run` process) and peak RSS of a whole
`switchyard run` on a cached entry against ORT's process less Node's own baseline (`node -e ""`: ORT's
library pages count as ORT's, as libdnnl's count as Switchyard's), and, stricter, less Node with ORT
already required (ORT's library pages not counted).

Standard library only; compare_ort.sh installs ORT and makes the stand-in models first.
"""
import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CLI = os.path.join(ROOT, "build", "bin", "switchyard")
ORT_BENCH = os.path.join(ROOT, "bench", "ort_bench.js")
ORT_MODULE = os.path.join(ROOT, "bench", ".ort", "node_modules", "onnxruntime-node")


def run(cmd, env=None):
    """Runs cmd; returns (stdout, peak RSS in MB from /usr/bin/time)."""
    with tempfile.NamedTemporaryFile("r", suffix=".time") as t:
        full = ["/usr/bin/time", "-f", "%M", "-o", t.name] + cmd
        p = subprocess.run(full, capture_output=True, text=True, env=env)
        if p.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)} exited {p.returncode}: {p.stderr.strip()[-2000:]}")
        lines = [l for l in open(t.name).read().split("\n") if l.strip()]
        return p.stdout, int(lines[-1]) / 1024.0


def last_json(text):
    for line in reversed(text.strip().split("\n")):
        if line.startswith("{"):
            return json.loads(line)
    return json.loads(text)


def shape_args(shapes, flag):
    out = []
    for s in shapes:
        out += [flag, s] if flag else [s]
    return out


def ort_latency(model, shapes, threads, requests):
    out, _ = run(["node", ORT_BENCH, model, str(threads), str(requests)] + shapes)
    return last_json(out)


def sy_latency(model, shapes, threads, requests, cache_dir):
    cmd = [CLI, "bench", model, "--device", "cpu:0", "--sync-only", "--fresh-runs", "0", "--requests", str(requests), "--json"]
    if threads:
        cmd += ["--cpu-threads", str(threads)]
    env = dict(os.environ, SWITCHYARD_CACHE_DIR=cache_dir)
    out, _ = run(cmd + shape_args(shapes, "--input-shape"), env)
    return json.loads(out)["sync"]["latency_ms"]["median"]


def sy_loads(model, shapes, cache_dir):
    """Uncached load, then the median of three cached loads, each a fresh `run` process."""
    env = dict(os.environ, SWITCHYARD_CACHE_DIR=cache_dir)
    cmd = [CLI, "run", model, "--device", "cpu:0", "--json"] + shape_args(shapes, "--input-shape")
    out, _ = run(cmd, env)
    uncached = last_json(out)
    cached, rss = [], []
    for _ in range(3):
        out, peak = run(cmd, env)
        j = last_json(out)
        if j["cache"]["state"] != "cached":
            raise RuntimeError(f"{model}: the second run was not a cached load ({j['cache']})")
        cached.append(j["load_ms"])
        rss.append(peak)
    return uncached["load_ms"], statistics.median(cached), statistics.median(rss)


def ort_rss(model, shapes):
    out, peak = run(["node", ORT_BENCH, model, "2", "1"] + shapes)
    return last_json(out)["create_ms"], peak


def geomean(v):
    return math.exp(sum(math.log(x) for x in v) / len(v)) if v else float("nan")


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("models", nargs="+", help="MODEL or MODEL:NAME=D0,D1,...[;NAME=...]")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--requests", type=int, default=30)
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--json", help="also write the results here")
    args = ap.parse_args(argv)
    threads = [int(t) for t in args.threads.split(",")]
    baseline = run(["node", "-e", ""])[1]
    baseline_with_ort = run(["node", "-e", f"require({json.dumps(ORT_MODULE)})"])[1]
    results = []
    for spec in args.models:
        model, _, shape_text = spec.partition(":")
        shapes = [s for s in shape_text.split(";") if s]
        name = os.path.splitext(os.path.basename(model))[0]
        cache_dir = tempfile.mkdtemp(prefix="compare_ort_")
        r = {"model": name, "path": model, "shapes": shapes, "latency": {}}
        sy_latency(model, shapes, 1, 2, cache_dir)  # warm the cache entry and the page cache
        for t in threads:
            ort_med, sy_med = [], []
            for _ in range(args.rounds):  # interleaved
                ort_med.append(ort_latency(model, shapes, t, args.requests)["median_ms"])
                sy_med.append(sy_latency(model, shapes, t, args.requests, cache_dir))
            o, s = statistics.median(ort_med), statistics.median(sy_med)
            r["latency"][str(t)] = {"ort_ms": o, "switchyard_ms": s, "ratio": s / o}
        r["switchyard_default_ms"] = statistics.median(sy_latency(model, shapes, 0, args.requests, cache_dir) for _ in range(args.rounds))
        uncached, cached, sy_rss = sy_loads(model, shapes, tempfile.mkdtemp(prefix="compare_ort_load_"))
        creates, ort_rsses = [], []
        for _ in range(3):
            c, m = ort_rss(model, shapes)
            creates.append(c)
            ort_rsses.append(m)
        r["load"] = {"ort_create_ms": statistics.median(creates), "switchyard_uncached_ms": uncached, "switchyard_cached_ms": cached}
        ort_peak = statistics.median(ort_rsses)
        r["rss_mb"] = {"ort": ort_peak - baseline, "ort_less_library": ort_peak - baseline_with_ort, "switchyard": sy_rss}
        results.append(r)
        print(f"# {name} done", file=sys.stderr)

    print(f"{'model':<22}" + "".join(f"{'ORT ' + str(t) + 'T':>10}{'SY ' + str(t) + 'T':>10}{'ratio':>7}" for t in threads) +
          f"{'SY default':>11}")
    for r in results:
        row = f"{r['model']:<22}"
        for t in threads:
            l = r["latency"][str(t)]
            row += f"{l['ort_ms']:>10.2f}{l['switchyard_ms']:>10.2f}{l['ratio']:>7.2f}"
        print(row + f"{r['switchyard_default_ms']:>11.2f}")
    for t in threads:
        ratios = [r["latency"][str(t)]["ratio"] for r in results]
        print(f"geomean ratio at {t} thread(s): {geomean(ratios):.2f} (worst {max(ratios):.2f})")
    print(f"\n{'model':<22}{'ORT create':>11}{'SY uncached':>12}{'SY cached':>10}{'cached/ORT':>11}{'ORT MB':>8}{'SY MB':>8}{'ratio':>7}"
          f"{'ORT-lib MB':>11}{'ratio':>7}")
    for r in results:
        l, m = r["load"], r["rss_mb"]
        print(f"{r['model']:<22}{l['ort_create_ms']:>11.1f}{l['switchyard_uncached_ms']:>12.1f}{l['switchyard_cached_ms']:>10.1f}"
              f"{l['switchyard_cached_ms'] / l['ort_create_ms']:>11.3f}{m['ort']:>8.0f}{m['switchyard']:>8.0f}{m['switchyard'] / m['ort']:>7.2f}"
              f"{m['ort_less_library']:>11.0f}{m['switchyard'] / m['ort_less_library']:>7.2f}")
    print(f"(latency: median over {args.rounds} interleaved rounds of the median of {args.requests} sync predictions; "
          f"RSS: ORT less Node's own baseline of {baseline:.0f} MB; ORT-lib: less Node with ORT required, {baseline_with_ort:.0f} MB)")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"rounds": args.rounds, "requests": args.requests, "node_baseline_mb": baseline, "node_with_ort_baseline_mb": baseline_with_ort, "models": results}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
