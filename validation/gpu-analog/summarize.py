#!/usr/bin/env python3
"""Prints the key figures of a probe run (validation/gpu-analog/README.md quotes its output).

usage: python3 validation/gpu-analog/summarize.py [DATA_DIR]   (default: the data/ beside this)
Standard library only.
"""
import json
import os
import statistics
import sys
from collections import defaultdict

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import analog_data  # noqa: E402  (beside this file)

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "data")
MIB = analog_data.MIB
fit_line = analog_data.fit_line


def rows(name):
    return analog_data.rows(DATA, name)


def pct(x):
    return f"{100.0 * x:5.1f} %"


meta = json.load(open(os.path.join(DATA, "meta.json")))
l2 = meta["l2_cache_bytes"]
print(f"{meta['gpu_name']}, {meta['sm_count']} SMs, L2 {l2 / MIB:.0f} MiB, CUDA runtime "
      f"{meta['cuda_runtime_version']}, cuBLASLt {meta['cublaslt_version']}, {meta['date']}, "
      f"{meta['reps']} reps")

# ---- bandwidth ------------------------------------------------------------------------------
bw = {r["test"]: r for r in rows("bandwidth.csv")}
peak = bw["hbm_read_1GiB"]["GBps"]
print("\n[1] peaks")
print(f"  HBM streaming read (1 GiB, read kernel): {peak:.0f} GB/s; D2D copy "
      f"{bw['hbm_copy_d2d_512MiB']['GBps']:.0f} GB/s (read+write); flush of "
      f"{meta['flush_bytes'] / MIB:.0f} MiB: {bw['flush']['median_us']:.1f} us")
for mib in (4, 16, 32):
    hot, cold = bw[f"l2_reread_{mib}MiB"], bw[f"hbm_read_cold_{mib}MiB"]
    print(f"  read kernel {mib:2d} MiB: cold {cold['median_us']:6.2f} us, L2-hot "
          f"{hot['median_us']:6.2f} us (x{cold['median_us'] / hot['median_us']:.2f})")

# ---- GEMM alone -----------------------------------------------------------------------------
g = rows("gemm_alone.csv")
by = defaultdict(dict)
for r in g:
    by[(r["weight_over_l2"], r["tokens_M"])][(r["state"], round(r["preload_frac"], 2))] = r
sizes = sorted({k[0] for k in by})
toks = sorted({k[1] for k in by})
print("\n[2] GEMM alone (cuBLASLt bf16, K=4096), L2 flushed: cold time us / weight GB/s / hot "
      "speed-up (cold/hot)")
print("  W/L2   W MiB  " + "".join(f"   M={int(m):<3d}            " for m in toks))
for s in sizes:
    line = f"  {s:5.3f} {s * l2 / MIB:6.1f}  "
    for m in toks:
        d = by[(s, m)]
        c, h = d[("cold", 0.0)], d[("hot", 1.0)]
        line += f" {c['median_us']:6.2f} {c['weight_GBps']:5.0f} x{c['median_us'] / h['median_us']:.2f}  "
    print(line)
print(f"  (HBM peak for comparison: {peak:.0f} GB/s)")

print("\n[3] L2-saving curve: saved(f) / saved_by_read(1.0), saved = cold - t(f); first f of the "
      "weight pre-loaded by a read kernel (read), by the 1-block TMA prefetch (tma1) or by the "
      "16-block one (tma16)")
for s in sizes:
    if s > 1.01:
        continue
    for m in (8, 32, 128):
        if m not in toks:
            continue
        d = by[(s, m)]
        cold = d[("cold", 0.0)]["median_us"]
        full = cold - d[("preload_read", 1.0)]["median_us"]
        for st in ("preload_read", "preload_tma1", "preload_tma16"):
            vals = [(cold - d[(st, round(f / 10, 2))]["median_us"]) / full if full > 0 else 0
                    for f in range(1, 11)]
            print(f"  W/L2 {s:5.3f} M={int(m):3d} {st[8:]:6s} (saved by read f=1: {full:5.2f} us of "
                  f"{cold:6.2f}):" + "".join(f" {v:5.2f}" for v in vals))

# ---- prefetch alone --------------------------------------------------------------------------
p = rows("prefetch_alone.csv")
print("\n[4] prefetch alone (issuing kernel timed in a graph; wait = TMA fence behind the "
      "prefetches): fit time = a + bytes / rate over 1..48 MiB")
for mode in ("wait", "ff"):
    for (blocks, chunk) in sorted({(r["blocks"], r["chunk_bytes"]) for r in p if r["count"] == 1}):
        pts = [(r["total_bytes"], r["median_us"]) for r in p
               if r["mode"] == mode and r["blocks"] == blocks and r["chunk_bytes"] == chunk
               and r["count"] == 1 and MIB <= r["total_bytes"] <= 48 * MIB]
        if len(pts) < 3:
            continue
        a, b = fit_line([x for x, _ in pts], [y for _, y in pts])
        zero = [r["median_us"] for r in p if r["mode"] == mode and r["blocks"] == blocks
                and r["chunk_bytes"] == chunk and r["count"] == 1 and r["total_bytes"] == 0][0]
        rate = 1.0 / b / 1e3 if b > 0 else float("inf")
        note = "  <- bytes do not arrive (see arrival)" if chunk >= 1048576 else ""
        print(f"  {mode:4s} blocks={int(blocks):2d} chunk={int(chunk):8d}: a = {a:6.2f} us, rate = "
              f"{rate:7.0f} GB/s, 0-byte kernel {zero:5.2f} us{note}")
print("  back to back on one stream, k kernels of total/k bytes (us):")
# the back-to-back rows: each count = 2 row and the count = 1 row right before it start a run
for i in range(1, len(p)):
    if p[i]["count"] != 2 or p[i - 1]["count"] != 1:
        continue
    run = {int(r["count"]): r["median_us"] for r in p[i - 1:i + 3]}
    r0 = p[i - 1]
    per = (run[8] - run[1]) / 7.0
    print(f"    {r0['mode']:4s} blocks={int(r0['blocks']):2d} {r0['total_bytes'] / MIB:2.0f} MiB: " +
          " ".join(f"k={k} {run[k]:7.2f}" for k in sorted(run)) +
          f"  -> +{per:.2f} us per extra kernel")

# ---- arrival ---------------------------------------------------------------------------------
a = rows("prefetch_arrival.csv")
print("\n[5] arrival: read of the region after the prefetch (cold / L2-hot by a read / plateau = "
      "prefetch + long spin)")
for r in a:
    if r["test"] == "chunk" and r["variant"] == "plateau":
        gain = (r["read_cold_us"] - r["read_plateau_us"])
        full = [x for x in a if x["test"] == "chunk" and x["chunk_bytes"] == 65536
                and x["variant"] == "plateau"][0]
        ref = full["read_cold_us"] - full["read_plateau_us"]
        wait = [x for x in a if x["test"] == "chunk" and x["chunk_bytes"] == r["chunk_bytes"]
                and x["variant"] == "wait_then_read"][0]
        print(f"  chunk {int(r['chunk_bytes']):8d} B, 32 MiB, 1 block: cold {r['read_cold_us']:6.2f} "
              f"hot {r['read_hot_us']:6.2f} plateau {r['read_plateau_us']:6.2f} us -> arrived "
              f"{gain / ref:4.2f} of the 64 KiB case; wait kernel {wait['prefetch_kernel_us']:7.2f} us")
print("  progress (concurrent read after d us; frac = (cold-read)/(cold-plateau), noisy: the "
      "read gains only ~1 us):")
prog = defaultdict(list)
for r in a:
    if r["test"] == "progress" and r["variant"] == "concurrent":
        prog[(int(r["blocks"]), int(r["bytes"] / MIB))].append(r)
for key in sorted(prog):
    wait = [x for x in a if x["test"] == "progress" and x["blocks"] == key[0]
            and x["bytes"] == key[1] * MIB and x["variant"] == "wait_then_read"][0]
    pts = " ".join(f"{x['start_to_read_us']:.0f}:{x['frac_arrived']:.2f}" for x in prog[key])
    print(f"    blocks={key[0]:2d} {key[1]:2d} MiB, wait kernel {wait['prefetch_kernel_us']:6.1f} us | "
          f"t:frac {pts}")

# ---- fork/join, in sequence ---------------------------------------------------------------------
fj = {(r["mode"], r["variant"]): r["median_us"] for r in rows("forkjoin.csv")}
print("\n[6] fork/join with no bytes (us)")
for mode in ("graph", "eager"):
    e1, e2 = fj[(mode, "empty")], fj[(mode, "empty_empty")]
    print(f"  {mode}: empty {e1:.2f}, empty+empty {e2:.2f}, empty+fork+pf0+join+empty "
          f"{fj[(mode, 'empty_fork_pf0_join_empty')]:.2f} (+{fj[(mode, 'empty_fork_pf0_join_empty')] - e2:.2f}), "
          f"lat5+empty {fj[(mode, 'lat5_empty')]:.2f} vs fork+pf0||lat5+join+empty "
          f"{fj[(mode, 'fork_pf0_lat5_join_empty')]:.2f} (+{fj[(mode, 'fork_pf0_lat5_join_empty')] - fj[(mode, 'lat5_empty')]:.2f})")

seq = defaultdict(dict)
for r in rows("seq_k.csv"):
    seq[(r["mode"], r["op"])][int(r["count"])] = r["median_us"]
print("\n[7] alone vs in sequence: k copies back to back; per-op in sequence = slope over k; "
      "fixed cost = t(1) - slope")
for key in sorted(seq):
    d = seq[key]
    a0, b0 = fit_line(list(d.keys()), list(d.values()))
    print(f"  {key[0]:5s} {key[1]:22s} alone {d[1]:6.2f} us, in sequence {b0:6.2f} us/op, "
          f"fixed {d[1] - b0:5.2f} us")

# ---- combined --------------------------------------------------------------------------------
def groups_of(name):
    out = defaultdict(list)
    for r in rows(name):
        out[int(r["group"])].append(r)
    return out


for name in ("combined_i.csv", "combined_ii.csv"):
    gr = groups_of(name)
    print(f"\n[8] {name}: per group, gain = (base - best) / base; noise = |base - base_repeat| / base")
    noise, fj0, pos = [], [], defaultdict(int)
    n_groups = len(gr)
    rows_summary = []
    for gid, rs in sorted(gr.items()):
        v = {(r["variant"], int(r["prefetch_blocks"]), round(r["ratio"], 2)): r for r in rs}
        base = v[("base", 0, 0.0)]["median_us"]
        rep = v[("base_repeat", 0, 0.0)]["median_us"]
        noise.append(abs(base - rep) / base)
        fj0.append(v[("fj0", 1, 0.0)]["median_us"] - base)
        for nb in (1, 4, 16):
            cand = [(r["median_us"], r["ratio"]) for r in rs if r["variant"] == "r"
                    and int(r["prefetch_blocks"]) == nb]
            if not cand:
                continue
            best = min(cand)
            gain = (base - best[0]) / base
            if gain > 2 * noise[-1] and gain > 0.01:
                pos[nb] += 1
            rows_summary.append((gid, nb, gain, best[1], rs[0]))
    print(f"  {n_groups} groups; noise median {pct(statistics.median(noise))}, p90 "
          f"{pct(sorted(noise)[int(0.9 * len(noise))])}; fork+join(0 B) cost median "
          f"{statistics.median(fj0):.2f} us (p10 {sorted(fj0)[len(fj0) // 10]:.2f}, p90 "
          f"{sorted(fj0)[9 * len(fj0) // 10]:.2f})")
    for nb in (1, 4, 16):
        gs = [x for x in rows_summary if x[1] == nb]
        if not gs:
            continue
        print(f"  blocks={nb:2d}: groups where prefetch wins by > max(1 %, 2 x noise): {pos[nb]} of "
              f"{len(gs)}; best gain {pct(max(x[2] for x in gs))}")
    top = sorted(rows_summary, key=lambda x: -x[2])[:8]
    for gid, nb, gain, r, r0 in top:
        print(f"    g{gid:3d} W/L2 {r0['weight_over_l2']:.3f} M={int(r0['tokens_M']):3d} "
              f"{r0['window']:8s} blocks={nb:2d}: best r={r:.1f} gain {pct(gain)}")

c3 = rows("combined_iii.csv")
print("\n[9] combined_iii.csv (decoder layer, 4 sites on one FIFO stream)")
for m in sorted({r["tokens"] for r in c3}):
    rs = [r for r in c3 if r["tokens"] == m]
    alone = sum(r["median_us"] for r in rs if r["row_class"] == "alone")
    base = [r for r in rs if r["variant"] == "base"][0]["median_us"]
    rep = [r for r in rs if r["variant"] == "base_repeat"][0]["median_us"]
    f0 = [r for r in rs if r["variant"] == "fj0"][0]["median_us"]
    best = min((r["median_us"], r["sweep"], int(r["prefetch_blocks"]),
                max(r["r_qkv"], r["r_o"], r["r_gate_up"], r["r_down"]))
               for r in rs if r["variant"] == "r")
    all1 = {int(r["prefetch_blocks"]): r["median_us"] for r in rs if r["variant"] == "r"
            and r["sweep"] == "all" and r["r_qkv"] == 1.0}
    print(f"  M={int(m):3d}: sum of 12 ops alone {alone:7.2f} us, layer {base:7.2f} / {rep:7.2f} us "
          f"({pct(1 - base / alone)} below the sum), fj0 {f0:7.2f}, all sites r=1: " +
          ", ".join(f"b{k} {v:.1f}" for k, v in sorted(all1.items())) +
          f"; best {best[1]} b{best[2]} r={best[3]:.1f} {best[0]:.2f} us (gain "
          f"{pct((base - best[0]) / base)})")
