#!/usr/bin/env python3
"""Figures for warpsim results: PNGs next to the results, linked from report.md.

    python3 scripts/plot.py results/nimble                 # a `warpsim run` folder
    python3 scripts/plot.py results/sweeps/quickstart-grid  # a `warpsim sweep` folder

A run folder's metrics.json is matched against key patterns; each pattern that matches draws
its figure, whatever experiment wrote the keys:

  speedup bars            <group>.<policy>.speedup_vs_eager (published values beside them from
                          published.json, which `warpsim run` writes from its sweeps' reports)
  latency-throughput      <series>.<load>.{throughput*, *latency_ms[_p50 ...] | p50_ms | p99_ms |
                          mean_ms} (LLM serving: normalized_latency_ms_p50 against throughput_rps)
  response time vs oversubscription
                          barm.<taskset>.os<ratio>.sm<n>.<policy>.{mean_ms, p99_ms, ...}
  busbw vs message size   allreduce.<system>.<algo>.<bytes>.busbw_gbps
  latency vs GPU share    knee.<model>.bs<batch>.pct<percent>.latency_ms (`warpsim knee --out`),
                          the knee marked
  tree strategies         d<depth>.b<batch>.<strategy>.ms (the windtunnel experiment): time vs
                          depth per batch, the crossover marked
  any other run           its results.csv: the first metrics as bars by point (points.png)

A sweep folder's results.csv gives one figure per numeric axis: the chosen metrics (--metrics,
globs) against that axis, one line per combination of the other axes, the mean over seeds with
the spread as error bars. Only numpy, pandas, matplotlib and yaml (Debian packages).
"""

import argparse
import fnmatch
import json
import math
import os
import re
import sys
from collections import defaultdict

try:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # noqa: E402
    import numpy as np  # noqa: E402
    import pandas as pd  # noqa: E402
    import yaml  # noqa: E402
except ImportError as missing:  # whichever python3 came first on PATH lacks one
    debian = {"matplotlib": "python3-matplotlib", "numpy": "python3-numpy",
              "pandas": "python3-pandas", "yaml": "python3-yaml"}.get(missing.name, missing.name)
    print(f"plot.py: error: this Python ({sys.executable}) has no module '{missing.name}': run it "
          f"with /usr/bin/python3 (scripts/setup.sh installs {debian}), or install it here",
          file=sys.stderr)
    sys.exit(2)

FIGURES_BEGIN = "<!-- figures: written by scripts/plot.py -->"
FIGURES_END = "<!-- end of figures -->"


def fail(message):
    print(f"plot.py: error: {message}", file=sys.stderr)
    sys.exit(2)


def save(fig, folder, name):
    path = os.path.join(folder, name)
    fig.tight_layout()
    fig.savefig(path + ".tmp.png", dpi=110)
    os.replace(path + ".tmp.png", path)  # whole or not at all, like every warpsim output
    plt.close(fig)
    return name


def bars(ax, groups, series, values, hatch_series=()):
    """Grouped bars: values[(group, series)]; missing ones are left out."""
    width = 0.8 / max(1, len(series))
    x = np.arange(len(groups))
    for i, s in enumerate(series):
        ys = [values.get((g, s), np.nan) for g in groups]
        ax.bar(x + (i - (len(series) - 1) / 2) * width, ys, width, label=s,
               hatch="//" if s in hatch_series else None,
               edgecolor="black" if s in hatch_series else None,
               alpha=0.55 if s in hatch_series else 1.0)
    ax.set_xticks(x)
    ax.set_xticklabels(groups, rotation=30 if len(groups) > 4 else 0, ha="right" if len(groups) > 4 else "center")


def line(ax, pts, *style, **kw):
    """One curve through (x, y) points, in x order."""
    pts = sorted(pts)
    ax.plot([p[0] for p in pts], [p[1] for p in pts], *style, marker="o", **kw)


# --- plotters over one run's flat metrics -------------------------------------------------------

def published_of(config, folder):
    """Published figures by metric key: the run's published.json, or a config's `published:`."""
    path = os.path.join(folder, "published.json")
    if os.path.exists(path):
        with open(path) as f:
            return json.load(f)
    return (config or {}).get("published") or {}


def plot_speedup(metrics, config, folder):
    pattern = re.compile(r"^(?P<group>.+)\.(?P<policy>[^.]+)\.speedup_vs_eager$")
    values, groups, policies = {}, [], []
    for key, v in metrics.items():
        m = pattern.match(key)
        if not m or m["policy"] == "eager" or v is None:
            continue
        g, p = m["group"], m["policy"]
        values[(g, p)] = v
        groups += [g] if g not in groups else []
        policies += [p] if p not in policies else []
    if not values:
        return []
    published = dict(published_of(config, folder))
    shown = list(policies)
    for g in groups:
        for p in policies:
            key = f"{g}.{p}.speedup_vs_eager"
            if key in published:
                values[(g, f"{p} (published)")] = float(published[key])
                if f"{p} (published)" not in shown:
                    shown.insert(shown.index(p) + 1, f"{p} (published)")
    fig, ax = plt.subplots(figsize=(max(5, 1.1 * len(groups) + 2), 3.6))
    bars(ax, groups, shown, values, hatch_series=[s for s in shown if s.endswith("(published)")])
    ax.axhline(1.0, color="gray", lw=0.8)
    ax.set_ylabel("speedup over eager (x)")
    ax.set_title("Speedup over eager launch: simulated vs published")
    ax.legend(fontsize=8)
    return [("Speedup over eager", save(fig, folder, "speedup.png"))]


def plot_latency_throughput(metrics, folder):
    # A load is one key part, or a word and a number that may have a dot (rate0.05).
    pattern = re.compile(r"^(?P<series>.+?)\.(?P<load>[A-Za-z_]*\d[\d.]*|[^.]+)\."
                         r"(?P<leaf>throughput\w*|\w*latency_ms(?:_p\d+|_mean)?|p50_ms|p99_ms|"
                         r"mean_ms)$")
    points = defaultdict(dict)  # (series, load) -> {leaf: value}
    for key, v in metrics.items():
        m = pattern.match(key)
        if m and v is not None:
            points[(m["series"], m["load"])][m["leaf"]] = v
    curves = defaultdict(list)
    for (series, load), leaves in points.items():
        tput = [k for k in leaves if k.startswith("throughput")]
        lat = [k for k in leaves if not k.startswith("throughput")]
        if tput and lat:
            # the tail if there is one: what a latency-throughput curve is about; for LLM
            # serving, Orca's median latency per output token
            pick = next((k for k in ("normalized_latency_ms_p50", "p99_ms", "p50_ms", "mean_ms")
                         if k in lat), sorted(lat)[0])
            curves[(series, pick)].append((leaves[sorted(tput)[0]], leaves[pick]))
    if not curves:
        return []
    fig, ax = plt.subplots(figsize=(5.5, 3.8))
    for (series, leaf), pts in sorted(curves.items()):
        line(ax, pts, label=f"{series} ({leaf})")
    ax.set_xlabel("throughput")
    ax.set_ylabel("latency (ms)")
    ax.set_yscale("log")
    ax.set_title("Latency vs throughput")
    ax.legend(fontsize=7)
    return [("Latency vs throughput", save(fig, folder, "latency_throughput.png"))]


def plot_oversubscription(metrics, folder):
    pattern = re.compile(r"^barm\.(?P<taskset>[^.]+)\.os(?P<ratio>[0-9.]+)\.sm(?P<sm>\d+)\."
                         r"(?P<policy>[^.]+)\.(?P<leaf>mean_ms|p99_ms)$")
    lines = defaultdict(list)  # (taskset, sm, leaf) -> policy -> [(ratio, ms)]
    for key, v in metrics.items():
        m = pattern.match(key)
        if m and v is not None:
            lines[(m["taskset"], int(m["sm"]), m["leaf"])].append(
                (m["policy"], float(m["ratio"].rstrip(".")), v))
    panels = sorted({(t, sm) for t, sm, _ in lines})
    if not panels:
        return []
    policies = sorted({p for pts in lines.values() for p, _, _ in pts})
    color = {p: f"C{i}" for i, p in enumerate(policies)}  # one colour per policy, all panels
    fig, axes = plt.subplots(1, len(panels), figsize=(4.2 * len(panels), 3.6), squeeze=False)
    for ax, (taskset, sm) in zip(axes[0], panels):
        for leaf, style in (("mean_ms", "-"), ("p99_ms", "--")):
            by_policy = defaultdict(list)
            for policy, ratio, v in lines.get((taskset, sm, leaf), []):
                by_policy[policy].append((ratio, v))
            for policy, pts in sorted(by_policy.items()):
                line(ax, pts, style, color=color[policy], label=f"{policy} {leaf.replace('_ms', '')}")
        ax.set_xlabel("oversubscription ratio")
        ax.set_ylabel("response time (ms)")
        ax.set_title(f"{taskset}, {sm} SMs")
        ax.legend(fontsize=7)
    return [("Response time vs oversubscription", save(fig, folder, "oversubscription.png"))]


def curves_of(metrics, pattern, curve, x):
    """Points (x(match), value) of every metric matching `pattern`, grouped by curve(match)."""
    out = defaultdict(list)
    for key, v in metrics.items():
        m = re.match(pattern, key)
        if m and v is not None:
            out[curve(m)].append((x(m), v))
    return out


def plot_busbw(metrics, folder):
    lines = curves_of(metrics,
                      r"^allreduce\.(?P<system>[^.]+)\.(?P<algo>[^.]+)\.(?P<bytes>\d+)\.busbw_gbps$",
                      lambda m: (m["system"], m["algo"]), lambda m: int(m["bytes"]))
    systems = sorted({s for s, _ in lines})
    if not systems:
        return []
    fig, axes = plt.subplots(1, len(systems), figsize=(4.5 * len(systems), 3.6), squeeze=False)
    for ax, system in zip(axes[0], systems):
        for (s, algo), pts in sorted(lines.items()):
            if s == system:
                line(ax, pts, label=algo)
        ax.set_xscale("log", base=2)
        ax.set_xlabel("message size (bytes)")
        ax.set_ylabel("bus bandwidth (GB/s)")
        ax.set_title(f"all-reduce on {system}")
        ax.legend(fontsize=7)
    return [("All-reduce bus bandwidth vs message size", save(fig, folder, "busbw.png"))]


def plot_knee(metrics, folder):
    curves = curves_of(metrics, r"^knee\.(?P<model>.+)\.bs(?P<batch>\d+)\.pct(?P<pct>\d+)\.latency_ms$",
                       lambda m: (m["model"], int(m["batch"])), lambda m: int(m["pct"]))
    if not curves:
        return []
    fig, ax = plt.subplots(figsize=(5.5, 3.8))
    for (model, batch), pts in sorted(curves.items()):
        line(ax, pts, label=f"{model} batch {batch}")
        knee = metrics.get(f"knee.{model}.bs{batch}.knee_percent")
        if knee is not None:
            ax.plot([knee], [dict(pts).get(int(knee))], "kx", markersize=9)
    ax.set_yscale("log")
    ax.set_xlabel("GPU share its CTAs may occupy (%)")
    ax.set_ylabel("latency (ms)")
    ax.set_title("latency vs GPU share (x: the knee)")
    ax.legend(fontsize=7)
    return [("Latency vs GPU share", save(fig, folder, "knee.png"))]


def plot_tree_strategies(metrics, folder):
    """WindTunnel: a tree program's time against depth, one panel per batch, a line per strategy."""
    curves = curves_of(metrics, r"^d(?P<depth>\d+)\.b(?P<batch>\d+)\.(?P<strategy>[a-z_]+)\.ms$",
                       lambda m: (int(m["batch"]), m["strategy"]), lambda m: int(m["depth"]))
    batches = sorted({b for b, _ in curves})
    if not batches:
        return []
    fig, axes = plt.subplots(1, len(batches), figsize=(3.8 * len(batches), 3.4), squeeze=False)
    for ax, batch in zip(axes[0], batches):
        for (b, strategy), pts in sorted(curves.items()):
            if b == batch:
                line(ax, pts, label=strategy)
        cross = metrics.get(f"b{batch}.crossover_depth")
        if cross is not None:
            ax.axvline(cross, color="grey", linestyle=":", linewidth=1)
        ax.set_yscale("log")
        ax.set_xlabel("tree depth")
        ax.set_ylabel("time (ms)")
        ax.set_title(f"batch {batch}")
        ax.legend(fontsize=7)
    return [("Tree strategies: time vs depth (dotted: where a traversal first beats gemm)",
             save(fig, folder, "tree_strategies.png"))]


# --- a sweep's results.csv ------------------------------------------------------------------------

def numeric(series):
    """The axis as numbers, and their unit, when every value is a number with the same unit
    ("16 GB/s", "31.5 GB/s"); None otherwise."""
    pattern = re.compile(r"^\s*([-+]?[0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)\s*(.*?)\s*$")
    matches = [pattern.match(str(s)) for s in series]
    if any(m is None for m in matches) or len({m.group(2) for m in matches}) != 1:
        return None
    return np.array([float(m.group(1)) for m in matches]), matches[0].group(2)


def plot_sweep(folder, patterns):
    df = pd.read_csv(os.path.join(folder, "results.csv"), dtype=str, keep_default_na=False)
    fixed = {"point", "status", "seed", "error"}
    ok = df[df["status"] == "ok"]
    if ok.empty:
        fail(f"{folder}/results.csv: no complete point to plot")
    # The sweep writes axis columns before metric columns; the metrics are the keys its points'
    # metrics.json files hold.
    run_metrics = set()
    for point in ok["point"].unique():
        path = os.path.join(folder, "points", point, "metrics.json")
        if os.path.exists(path):
            with open(path) as f:
                run_metrics.update(json.load(f))
    axes = [c for c in df.columns if c not in fixed and c not in run_metrics]
    metrics = [c for c in df.columns if c in run_metrics
               and any(fnmatch.fnmatch(c, p) for p in patterns)]
    metrics = [m for m in metrics if pd.to_numeric(ok[m], errors="coerce").nunique() > 1][:6]
    figures = []
    for axis in axes:
        if not metrics or ok[axis].nunique() < 2:
            continue
        parsed = numeric(ok[axis])
        others = [a for a in axes if a != axis]
        cols = min(3, len(metrics))  # a grid, not a strip of six
        rows = math.ceil(len(metrics) / cols)
        fig, plots = plt.subplots(rows, cols, figsize=(4.6 * cols, 3.6 * rows), squeeze=False)
        for ax in list(plots.flat)[len(metrics):]:
            ax.set_visible(False)
        for ax, metric in zip(plots.flat, metrics):
            y = pd.to_numeric(ok[metric], errors="coerce")
            if parsed is None:
                # A named axis (a zip of lists, a policy): the mean over the rest, per value.
                g = ok.assign(_y=y).groupby(axis, sort=False)["_y"].agg(["mean", "std"])
                ax.bar(range(len(g)), g["mean"], yerr=g["std"].fillna(0), capsize=3)
                ax.set_xticks(range(len(g)))
                ax.set_xticklabels([str(v)[:28] for v in g.index], rotation=20, ha="right",
                                   fontsize=7)
                ax.set_xlabel(axis)
            else:
                x, unit = parsed
                frame = ok.assign(_x=x, _y=y)
                # One key as itself, not a list of one (pandas warns of a future change there).
                by = others if len(others) > 1 else (others[0] if others else None)
                groups = list(frame.groupby(by)) if others else [("", frame)]
                if len(groups) > 1 and max(part["_x"].nunique() for _, part in groups) < 2:
                    # Random samples: every point its own combination of the other axes, so
                    # lines would be single points. All points, and a least-squares line.
                    ax.scatter(frame["_x"], frame["_y"], s=14)
                    good = frame[np.isfinite(frame["_y"])]
                    if good["_x"].nunique() > 1:
                        slope, icept = np.polyfit(good["_x"], good["_y"], 1)
                        xs = np.linspace(good["_x"].min(), good["_x"].max(), 50)
                        ax.plot(xs, slope * xs + icept, color="black", linewidth=1,
                                label=f"fit: slope {slope:.3g}")
                        ax.legend(fontsize=7)
                else:
                    for label, part in groups:
                        g = part.groupby("_x")["_y"].agg(["mean", "std"]).reset_index()
                        name = (", ".join(f"{a}={v}" for a, v in zip(
                            others, label if isinstance(label, tuple) else (label,)))
                                if others else None)
                        ax.errorbar(g["_x"], g["mean"], yerr=g["std"].fillna(0), marker="o",
                                    capsize=3, label=name)
                    if others:
                        ax.legend(fontsize=6)
                ax.set_xlabel(f"{axis} ({unit})" if unit else axis)
            ax.set_title(metric, fontsize=9)
        safe = re.sub(r"[^A-Za-z0-9_.-]", "_", axis)
        figures.append((f"Metrics vs {axis}", save(fig, folder, f"sweep_{safe}.png")))
    return figures


# --- report.md ------------------------------------------------------------------------------------

def plot_points(folder, most=4):
    """Any run folder's results.csv: its first few metrics as bars, one group per value of the
    first parameter, one bar per value of the last (trace_validation: traces x costs)."""
    df = pd.read_csv(os.path.join(folder, "results.csv"))
    metric_cols = [c for c in df.columns if c != "point" and pd.api.types.is_numeric_dtype(df[c])]
    param_cols = [c for c in df.columns if c != "point" and c not in metric_cols]
    if not metric_cols:
        return []
    first = param_cols[0] if param_cols else "point"
    last = param_cols[-1] if len(param_cols) > 1 else None
    shown = [c for c in metric_cols if df[c].notna().any()][:most]
    cols = min(2, len(shown))
    rows = math.ceil(len(shown) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(6.5 * cols, 3.6 * rows), squeeze=False)
    for ax, metric in zip(axes.flat, shown):
        sub = df[df[metric].notna()]
        groups = list(dict.fromkeys(sub[first].astype(str)))
        series = list(dict.fromkeys(sub[last].astype(str))) if last else [metric]
        values = {}
        for _, r in sub.iterrows():
            values[(str(r[first]), str(r[last]) if last else metric)] = r[metric]
        bars(ax, groups, series, values)
        ax.set_title(metric)
        plt.setp(ax.get_xticklabels(), rotation=20, ha="right")
        if last:
            ax.legend(title=last, fontsize=8)
    for ax in list(axes.flat)[len(shown):]:
        ax.set_visible(False)
    return [("Metrics by point", save(fig, folder, "points.png"))]


def link_figures(folder, figures, title):
    report = os.path.join(folder, "report.md")
    text = open(report).read() if os.path.exists(report) else f"# {title}\n"
    if FIGURES_BEGIN in text:  # replace what an earlier call wrote
        head, rest = text.split(FIGURES_BEGIN, 1)
        text = head.rstrip("\n") + "\n" + (rest.split(FIGURES_END, 1)[1] if FIGURES_END in rest else "")
    section = "\n".join(f"### {t}\n\n![{t}]({name})\n" for t, name in figures)
    text = text.rstrip("\n") + f"\n\n{FIGURES_BEGIN}\n## Figures\n\n{section}{FIGURES_END}\n"
    with open(report + ".tmp", "w") as f:
        f.write(text)
    os.replace(report + ".tmp", report)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("results", help="a run folder (metrics.json) or a sweep folder (results.csv)")
    ap.add_argument("--metrics", action="append", default=None,
                    help="sweeps: metric columns to plot, as globs (repeatable; default all)")
    args = ap.parse_args()
    folder = args.results
    if os.path.isfile(folder):
        folder = os.path.dirname(folder) or "."
    if not os.path.isdir(folder):
        fail(f"{args.results}: no such results folder")

    # A sweep folder has points/; a run folder's own results.csv is its tidy table.
    if os.path.isdir(os.path.join(folder, "points")) and os.path.exists(os.path.join(folder, "results.csv")):
        figures = plot_sweep(folder, args.metrics or ["*"])
        title = os.path.basename(os.path.normpath(folder))
    elif os.path.exists(os.path.join(folder, "metrics.json")):
        try:
            with open(os.path.join(folder, "metrics.json")) as f:
                metrics = json.load(f)
        except json.JSONDecodeError as e:
            fail(f"{folder}/metrics.json:{e.lineno}:{e.colno}: invalid JSON: {e.msg}")
        config = None
        if os.path.exists(os.path.join(folder, "config.yaml")):
            with open(os.path.join(folder, "config.yaml")) as f:
                config = yaml.safe_load(f)
        figures = (plot_speedup(metrics, config, folder) + plot_latency_throughput(metrics, folder)
                   + plot_oversubscription(metrics, folder) + plot_busbw(metrics, folder)
                   + plot_knee(metrics, folder) + plot_tree_strategies(metrics, folder))
        if not figures and os.path.exists(os.path.join(folder, "results.csv")):
            figures = plot_points(folder)
        title = (config or {}).get("name", os.path.basename(os.path.normpath(folder)))
    else:
        fail(f"{folder}: neither metrics.json nor results.csv here")

    if not figures:
        print(f"plot.py: nothing to draw in {folder} (no metric matches a known pattern)")
        return
    link_figures(folder, figures, title)
    for _, name in figures:
        print(os.path.join(folder, name))


if __name__ == "__main__":
    main()
