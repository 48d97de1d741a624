#!/usr/bin/env python3
"""Capture PyTorch-profiler (Kineto) traces of reference workloads for `warpsim validate`.

Runs on a machine with a CUDA GPU and PyTorch (torchvision for ResNet-50, transformers for
BERT-base and GPT-2; a workload whose package is missing is skipped with a message). Models are
built from their configurations with random weights: nothing is downloaded, and timing does
not depend on the weights' values.

Workloads (each warmed up, then profiled for --steps ProfilerSteps with record_shapes=True):
  resnet50_infer_bs1      ResNet-50 inference, batch 1, fp32, eager
  resnet50_infer_bs64     ResNet-50 inference, batch 64, fp32, eager
  resnet50_train_bs64     ResNet-50 training step (fwd + bwd + SGD), batch 64, fp32
  bert_base_infer         BERT-base inference, batch 8, sequence 128
  gpt2_infer              GPT-2 (124M) inference, batch 8, sequence 128
  resnet50_infer_bs1_graph  the Nimble setting: the same inference replayed as a CUDA graph
                          (eager vs graph launch overhead)

Usage:
  python3 scripts/capture_torch_trace.py --out validator/traces/h100 [--steps 5] [--only NAME...]

Each trace is written gzipped as OUT/<name>.json.gz, plus OUT/manifest.json with the GPU,
versions and settings. Then, for example:
  warpsim validate validator/traces/h100/resnet50_infer_bs64.json.gz --gpu h100-sxm
"""

import argparse
import gzip
import json
import os
import shutil
import sys
import tempfile
import time


def log(msg):
    print(f"capture_torch_trace: {msg}", flush=True)


def resnet50(torch, batch, train):
    try:
        import torchvision
    except ImportError:
        return None, "torchvision is not installed"
    model = torchvision.models.resnet50(weights=None).cuda()
    x = torch.randn(batch, 3, 224, 224, device="cuda")
    if not train:
        model.eval()

        def step():
            with torch.no_grad():
                model(x)
        return step, None
    model.train()
    y = torch.randint(0, 1000, (batch,), device="cuda")
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    loss_fn = torch.nn.CrossEntropyLoss()

    def step():
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
    return step, None


def transformer(torch, kind, batch=8, seq=128):
    try:
        import transformers
    except ImportError:
        return None, "transformers is not installed"
    if kind == "bert":
        cfg = transformers.BertConfig()  # bert-base: 12 layers, 768 hidden, 12 heads
        model = transformers.BertModel(cfg)
    else:
        cfg = transformers.GPT2Config()  # gpt2: 12 layers, 768 hidden, 12 heads
        model = transformers.GPT2Model(cfg)
    model = model.cuda().eval()
    ids = torch.randint(0, cfg.vocab_size, (batch, seq), device="cuda")

    def step():
        with torch.no_grad():
            model(input_ids=ids)
    return step, None


def graphed(torch, make):
    """Wraps an inference step into a CUDA graph (captured once, replayed per step)."""
    step, why = make()
    if step is None:
        return None, why
    s = torch.cuda.Stream()
    s.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(s):
        for _ in range(3):  # warm-up on a side stream, as torch.cuda.graphs requires
            step()
    torch.cuda.current_stream().wait_stream(s)
    g = torch.cuda.CUDAGraph()
    with torch.cuda.graph(g):
        step()

    def replay():
        g.replay()
    return replay, None


def workloads(torch):
    return {
        "resnet50_infer_bs1": lambda: resnet50(torch, 1, False),
        "resnet50_infer_bs64": lambda: resnet50(torch, 64, False),
        "resnet50_train_bs64": lambda: resnet50(torch, 64, True),
        "bert_base_infer": lambda: transformer(torch, "bert"),
        "gpt2_infer": lambda: transformer(torch, "gpt2"),
        "resnet50_infer_bs1_graph": lambda: graphed(torch, lambda: resnet50(torch, 1, False)),
    }


def capture(torch, name, make, out_dir, steps, warmup):
    from torch.profiler import ProfilerActivity, profile, schedule

    step, why = make()
    if step is None:
        log(f"skip {name}: {why}")
        return None
    for _ in range(warmup):
        step()
    torch.cuda.synchronize()
    tmp = tempfile.mkdtemp(prefix="warpsim-capture-")
    try:
        raw = os.path.join(tmp, f"{name}.json")
        with profile(activities=[ProfilerActivity.CPU, ProfilerActivity.CUDA],
                     schedule=schedule(wait=1, warmup=1, active=steps, repeat=1),
                     record_shapes=True) as prof:
            for _ in range(steps + 2):
                step()
                torch.cuda.synchronize()
                prof.step()
        prof.export_chrome_trace(raw)
        final = os.path.join(out_dir, f"{name}.json.gz")
        part = final + ".part"
        with open(raw, "rb") as src, gzip.open(part, "wb", compresslevel=9) as dst:
            shutil.copyfileobj(src, dst)
        os.replace(part, final)  # whole file or none
        size = os.path.getsize(final)
        log(f"{name}: {final} ({size / 1e6:.1f} MB)")
        return {"name": name, "file": os.path.basename(final), "bytes": size}
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True, help="output folder, e.g. validator/traces/h100")
    ap.add_argument("--steps", type=int, default=5, help="profiled steps per workload (5)")
    ap.add_argument("--warmup", type=int, default=10, help="unprofiled warm-up steps (10)")
    ap.add_argument("--only", nargs="*", help="capture only these workloads")
    args = ap.parse_args()
    if args.steps < 1 or args.warmup < 0:
        ap.error("--steps must be >= 1 and --warmup >= 0")
    try:
        import torch
    except ImportError:
        log("PyTorch is not installed")
        return 2
    if not torch.cuda.is_available():
        log("no CUDA device visible to PyTorch")
        return 2
    torch.backends.cudnn.benchmark = True
    known = workloads(torch)
    chosen = args.only or list(known)
    unknown = [n for n in chosen if n not in known]
    if unknown:
        ap.error(f"unknown workload(s) {unknown}; known: {sorted(known)}")
    os.makedirs(args.out, exist_ok=True)
    done = []
    for name in chosen:
        torch.manual_seed(0)
        r = capture(torch, name, known[name], args.out, args.steps, args.warmup)
        if r:
            done.append(r)
        torch.cuda.empty_cache()
    manifest = {
        "gpu": torch.cuda.get_device_name(0),
        "torch": torch.__version__,
        "cuda": torch.version.cuda,
        "cudnn": torch.backends.cudnn.version(),
        "steps": args.steps,
        "warmup": args.warmup,
        "captured_unix_time": int(time.time()),
        "traces": done,
    }
    with open(os.path.join(args.out, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=2)
    log(f"{len(done)} of {len(chosen)} workloads captured into {args.out}")
    return 0 if done else 1


if __name__ == "__main__":
    sys.exit(main())
