#!/usr/bin/env python3
"""scripts/export_torch_graph.py: without torch it says so and exits 0 (pipelines skip it);
with torch, a small CNN defined here is exported and warpsim reads it back as a model."""
import os
import subprocess
import sys
import tempfile

warpsim, source = sys.argv[1], sys.argv[2]
script = os.path.join(source, "scripts", "export_torch_graph.py")

with tempfile.TemporaryDirectory() as d:
    out = os.path.join(d, "net.json")
    try:
        import torch  # noqa: F401
    except ImportError:
        r = subprocess.run([sys.executable, script, "--module", "x:y", "--input", "1,3,8,8",
                            "--out", out], capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
        assert "torch is not installed" in r.stdout, r.stdout
        assert not os.path.exists(out)
        print("torch missing: the exporter skips cleanly")
        sys.exit(0)
    with open(os.path.join(d, "tinynet.py"), "w") as f:
        f.write("import torch.nn as nn\n"
                "def make():\n"
                "    return nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8),\n"
                "                         nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(),\n"
                "                         nn.Linear(8, 10))\n")
    env = dict(os.environ, PYTHONPATH=d)
    r = subprocess.run([sys.executable, script, "--module", "tinynet:make", "--input",
                        "4,3,16,16", "--out", out], capture_output=True, text=True, env=env)
    assert r.returncode == 0, r.stdout + r.stderr
    r = subprocess.run([warpsim, "graph", "export", "--model", out, "--batch", "4"],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "kind: conv" in r.stdout and "kind: gemm" in r.stdout, r.stdout
    print("exported and read back")
