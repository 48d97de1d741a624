#!/usr/bin/env python3
"""scripts/plot.py on a run folder whose metric keys match every run plotter, and on a real
sweep folder: each expected PNG is written and report.md links it. Exit 77 (skipped) where
matplotlib is missing."""
import contextlib
import importlib.util
import io
import json
import os
import subprocess
import sys
import tempfile

try:
    import matplotlib  # noqa: F401
except ImportError:
    print("skipped: no matplotlib (scripts/setup.sh installs python3-matplotlib)")
    sys.exit(77)

warpsim, source = sys.argv[1], sys.argv[2]
plot = os.path.join(source, "scripts", "plot.py")


# Loaded once and called in-process: importing matplotlib is most of a call's cost.
spec = importlib.util.spec_from_file_location("plot", plot)
plot_module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(plot_module)


def run(*args):
    """plot.py's main() with these arguments: (exit code, stdout, stderr)."""
    sys.argv = [plot, *args]
    out, err = io.StringIO(), io.StringIO()
    code = 0
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            plot_module.main()
        except SystemExit as e:
            code = e.code
    return code, out.getvalue(), err.getvalue()


def draw(*args):
    code, out, err = run(*args)
    assert code == 0, out + err
    return out


with tempfile.TemporaryDirectory() as tmp:
    # A run folder: metrics in each family's key pattern, published values in its config.
    run_dir = os.path.join(tmp, "run")
    os.makedirs(run_dir)
    m = {"inference.resnet50.eager.speedup_vs_eager": 1.0,
         "inference.resnet50.nimble.speedup_vs_eager": 3.5}
    for ratio in (1.0, 2.0):
        for policy, k in (("temporal", 2.0), ("barm", 1.0)):
            m[f"barm.mix.os{ratio}.sm80.{policy}.mean_ms"] = ratio * k
            m[f"barm.mix.os{ratio}.sm80.{policy}.p99_ms"] = ratio * k * 1.5
    for size in (1024, 1 << 20):
        m[f"allreduce.dgx.ring.{size}.busbw_gbps"] = size ** 0.2
        m[f"allreduce.dgx.ring.{size}.time_us"] = 10.0
    for rate in (1, 2):
        m[f"serve.llm.orca.rate{rate}.throughput_rps"] = rate
        m[f"serve.llm.orca.rate{rate}.p99_ms"] = 10.0 * rate
    for depth in (2, 8):
        for strategy, k in (("gemm", 4.0 ** depth), ("perfect_tree_traversal", 30.0 * depth)):
            m[f"d{depth}.b1000.{strategy}.ms"] = k / 100
    m["b1000.crossover_depth"] = 5
    with open(os.path.join(run_dir, "metrics.json"), "w") as f:
        json.dump(m, f)
    with open(os.path.join(run_dir, "config.yaml"), "w") as f:
        f.write("name: synthetic\n")
    with open(os.path.join(run_dir, "published.json"), "w") as f:  # from the sweeps' reports
        json.dump({"inference.resnet50.nimble.speedup_vs_eager": 4.32}, f)
    with open(os.path.join(run_dir, "report.md"), "w") as f:
        f.write("# synthetic\n\nthe table\n")
    with open(os.path.join(run_dir, "results.csv"), "w") as f:  # a run's own tidy table
        f.write("point,model,policy,speedup_vs_eager\ninference.resnet50.eager,resnet50,eager,1\n")
    draw(run_dir)
    draw(run_dir)  # twice: the figures section is replaced, not repeated
    report = open(os.path.join(run_dir, "report.md")).read()
    for png in ("speedup.png", "latency_throughput.png", "oversubscription.png", "busbw.png",
                "tree_strategies.png"):
        assert os.path.getsize(os.path.join(run_dir, png)) > 1000, png
        assert report.count(f"]({png})") == 1, report
    assert report.startswith("# synthetic\n\nthe table\n"), report

    # A run no key pattern knows (trace_validation, transfers): its results.csv as bars.
    transfers = os.path.join(tmp, "transfers")
    r = subprocess.run([warpsim, "run", os.path.join(source, "configs/experiments/transfers.yaml"),
                        "--quiet", "--out", transfers], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "points.png" in draw(transfers)
    assert os.path.getsize(os.path.join(transfers, "points.png")) > 1000

    # A sweep folder, from the real program.
    sweep_dir = os.path.join(tmp, "sweep")
    r = subprocess.run([warpsim, "sweep", os.path.join(source, "configs/sweeps/transfers-mixed.yaml"),
                        "--jobs", "2", "--out", sweep_dir], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    out = draw(sweep_dir, "--metrics", "transfers.makespan_us")
    assert "sweep_links.0.bandwidth.png" in out, out
    assert "sweep_arrivals.count.png" in out, out
    assert "](sweep_links.0.bandwidth.png)" in open(os.path.join(sweep_dir, "report.md")).read()

    # A zip sweep (named axes: bars per value) and a random one (scatter with a fit), with
    # pandas' and matplotlib's future warnings made errors.
    import warnings
    warnings.simplefilter("error", FutureWarning)
    for name, png in (("quickstart-zip", "sweep_gpu.png"),
                      ("transfers-random", "sweep_arrivals.mean_gap.png")):
        folder = os.path.join(tmp, name)
        r = subprocess.run([warpsim, "sweep", os.path.join(source, f"configs/sweeps/{name}.yaml"),
                            "--jobs", "2", "--out", folder], capture_output=True, text=True)
        assert r.returncode == 0, r.stdout + r.stderr
        assert png in draw(folder), name
        assert os.path.getsize(os.path.join(folder, png)) > 1000, name

    # A Python without matplotlib: one line naming the module and the fix, exit 2.
    r = subprocess.run([sys.executable, "-c",
                        "import sys; sys.modules['matplotlib'] = None; sys.argv = ['plot.py', '.'];"
                        f" exec(compile(open({plot!r}).read(), {plot!r}, 'exec'))"],
                       capture_output=True, text=True)
    assert r.returncode == 2, r.stdout + r.stderr
    assert "has no module 'matplotlib'" in r.stderr and "Traceback" not in r.stderr, r.stderr

    # Bad input: exit 2 with a message.
    code, _, err = run(os.path.join(tmp, "nothing"))
    assert code == 2 and "no such results folder" in err, err
print("plot.py: all figures written and linked")
