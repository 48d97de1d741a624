#!/usr/bin/env python3
"""Writes a PyTorch model as a warpsim op graph (docs/op-graph-format.md), to run as a model of
one's own (`--set model=FILE`).

    scripts/export_torch_graph.py --torchvision resnet50 --input 8,3,224,224 --out r50.json
    scripts/export_torch_graph.py --module mypkg.models:make_net --input 1,3,32,32 --out net.yaml

The model is traced with torch.fx and its shapes propagated with one example input; every node
becomes one op of the format. Supported: Conv2d (depthwise when groups == channels), Linear,
BatchNorm2d, ReLU/ReLU6/SiLU/Sigmoid/Tanh/GELU, Max/AvgPool2d, AdaptiveAvg/MaxPool2d to 1x1,
add/mul, cat, softmax, flatten after a global pool, and Dropout/Identity (no kernel). Anything
else stops with its node named. Without torch installed it says so and exits 0, so scripted
pipelines can skip it.
"""
import argparse
import importlib
import json
import operator
import sys


def need_torch():
    try:
        import torch  # noqa: F401
        import torch.fx  # noqa: F401
    except ImportError:
        print("export_torch_graph: torch is not installed (pip install torch); nothing written")
        sys.exit(0)


DTYPES = {"torch.float32": "fp32", "torch.float16": "fp16", "torch.bfloat16": "bf16"}


class Exporter:
    def __init__(self, name):
        self.name = name
        self.tensors = []  # dicts in the format
        self.ops = []
        self.known = set()
        self.alias = {}  # fx node name -> the tensor it is (no kernel)

    def tensor(self, name, shape, dtype, parameter=False):
        if name in self.known:
            return name
        self.known.add(name)
        t = {"name": name, "shape": [int(s) for s in shape], "dtype": dtype}
        if parameter:
            t["parameter"] = True
        self.tensors.append(t)
        return name

    def op(self, name, kind, inputs, outputs, **attrs):
        o = {"name": name, "kind": kind, "inputs": inputs, "outputs": outputs}
        o.update(attrs)
        self.ops.append(o)

    def document(self, batch):
        return {"format": "warpsim-op-graph", "version": 1, "name": self.name, "batch": batch,
                "tensors": self.tensors, "ops": self.ops}


def pair(v):
    return list(v) if isinstance(v, (tuple, list)) else [v, v]


def window(m):
    return {"kernel": pair(m.kernel_size), "stride": pair(m.stride or m.kernel_size),
            "padding": pair(m.padding), "dilation": pair(getattr(m, "dilation", 1))}


def export(model, example, name):
    import torch
    import torch.fx
    from torch.fx.passes.shape_prop import ShapeProp

    model = model.eval()
    gm = torch.fx.symbolic_trace(model)
    with torch.no_grad():
        ShapeProp(gm).propagate(example)
    ex = Exporter(name)
    modules = dict(gm.named_modules())
    params = dict(gm.named_parameters())

    def meta(node):
        tm = node.meta.get("tensor_meta")
        if tm is None:
            raise SystemExit(f"export_torch_graph: node '{node.name}' has no tensor shape")
        return list(tm.shape), DTYPES.get(str(tm.dtype), "fp32")

    def src(arg):
        return ex.alias.get(arg.name, arg.name)

    def out(node):
        shape, dtype = meta(node)
        return ex.tensor(node.name, shape, dtype)

    def param(qualified):
        p = params[qualified]
        return ex.tensor(qualified, list(p.shape), DTYPES.get(str(p.dtype), "fp32"), True)

    activations = {torch.nn.ReLU: "relu", torch.nn.ReLU6: "relu6", torch.nn.SiLU: "silu",
                   torch.nn.Sigmoid: "sigmoid", torch.nn.Tanh: "tanh", torch.nn.GELU: "gelu"}
    functions = {torch.relu: "relu", torch.nn.functional.relu: "relu",
                 torch.sigmoid: "sigmoid", torch.tanh: "tanh",
                 torch.nn.functional.silu: "silu", torch.nn.functional.gelu: "gelu"}
    elementwise = {operator.add: "add", torch.add: "add", operator.mul: "mul", torch.mul: "mul"}
    pooled = {}  # global-pool output tensor -> its index in ex.tensors (flatten may drop 1x1)

    for node in gm.graph.nodes:
        if node.op == "placeholder":
            shape, dtype = meta(node)
            ex.tensor(node.name, shape, dtype)
        elif node.op == "output":
            continue
        elif node.op == "call_module":
            m = modules[node.target]
            x = src(node.args[0])
            if isinstance(m, torch.nn.Conv2d):
                ins = [x, param(node.target + ".weight")]
                if m.bias is not None:
                    ins.append(param(node.target + ".bias"))
                depthwise = m.groups > 1 and m.groups == m.in_channels
                attrs = {"kernel": pair(m.kernel_size), "stride": pair(m.stride),
                         "padding": pair(m.padding), "dilation": pair(m.dilation)}
                if not depthwise and m.groups != 1:
                    attrs["groups"] = m.groups
                ex.op(node.name, "depthwise_conv" if depthwise else "conv", ins, [out(node)],
                      **attrs)
            elif isinstance(m, torch.nn.Linear):
                ins = [x, param(node.target + ".weight")]
                if m.bias is not None:
                    ins.append(param(node.target + ".bias"))
                ex.op(node.name, "gemm", ins, [out(node)], transpose_b=True)
            elif isinstance(m, torch.nn.BatchNorm2d):
                ex.op(node.name, "batch_norm",
                      [x, param(node.target + ".weight"), param(node.target + ".bias")],
                      [out(node)])
            elif type(m) in activations:
                ex.op(node.name, "activation", [x], [out(node)], function=activations[type(m)])
            elif isinstance(m, (torch.nn.MaxPool2d, torch.nn.AvgPool2d)):
                kind = "pool_max" if isinstance(m, torch.nn.MaxPool2d) else "pool_avg"
                ex.op(node.name, kind, [x], [out(node)], **window(m))
            elif isinstance(m, (torch.nn.AdaptiveAvgPool2d, torch.nn.AdaptiveMaxPool2d)):
                if pair(m.output_size) != [1, 1]:
                    raise SystemExit(f"export_torch_graph: '{node.name}': adaptive pooling to "
                                     f"{m.output_size} (only to 1x1, a global pool)")
                fn = "avg" if isinstance(m, torch.nn.AdaptiveAvgPool2d) else "max"
                ex.op(node.name, "global_pool", [x], [out(node)], function=fn)
                pooled[node.name] = len(ex.tensors) - 1
            elif isinstance(m, (torch.nn.Dropout, torch.nn.Identity)):
                ex.alias[node.name] = x
            elif isinstance(m, torch.nn.Flatten):
                flatten(ex, node, x, pooled)
            else:
                raise SystemExit(f"export_torch_graph: '{node.name}': module {type(m).__name__} "
                                 "is not supported")
        elif node.op in ("call_function", "call_method"):
            target = node.target
            if target in elementwise or target in ("add", "mul"):
                fn = elementwise.get(target, target)
                ins = [src(a) for a in node.args if hasattr(a, "name")]
                ex.op(node.name, "elementwise", ins, [out(node)], function=fn)
            elif target in functions or target == "relu":
                ex.op(node.name, "activation", [src(node.args[0])], [out(node)],
                      function=functions.get(target, "relu"))
            elif target in (torch.cat,):
                parts = [src(a) for a in node.args[0]]
                axis = node.kwargs.get("dim", node.args[1] if len(node.args) > 1 else 0)
                ex.op(node.name, "concat", parts, [out(node)], axis=int(axis))
            elif target in (torch.softmax, torch.nn.functional.softmax, "softmax"):
                axis = node.kwargs.get("dim", node.args[1] if len(node.args) > 1 else -1)
                rank = len(meta(node)[0])
                ex.op(node.name, "softmax", [src(node.args[0])], [out(node)],
                      axis=int(axis) % rank)
            elif target in (torch.flatten, "flatten", "view", "reshape"):
                flatten(ex, node, src(node.args[0]), pooled)
            else:
                raise SystemExit(f"export_torch_graph: '{node.name}': {target} is not supported")
        else:
            raise SystemExit(f"export_torch_graph: '{node.name}': {node.op} is not supported")
    return ex.document(int(example.shape[0]))


def flatten(ex, node, x, pooled):
    """A flatten after a global pool: the pool writes [N, C] directly (the format allows it)."""
    if x not in pooled:
        raise SystemExit(f"export_torch_graph: '{node.name}': a flatten/reshape that does not "
                         "follow a global pool has no op in the format")
    t = ex.tensors[pooled[x]]
    t["shape"] = t["shape"][:2]
    ex.alias[node.name] = x


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    src = ap.add_mutually_exclusive_group(required=True)
    src.add_argument("--torchvision", help="a torchvision.models name (resnet50, ...)")
    src.add_argument("--module", help="package.module:factory returning an nn.Module")
    ap.add_argument("--input", required=True, help="example input shape, e.g. 8,3,224,224")
    ap.add_argument("--dtype", default="fp32", choices=["fp32", "fp16", "bf16"])
    ap.add_argument("--name", help="the graph's name (default: the model's)")
    ap.add_argument("--out", required=True, help="file to write (.json, .yaml or .yml)")
    args = ap.parse_args()
    need_torch()
    import torch
    if args.torchvision:
        import torchvision
        model = getattr(torchvision.models, args.torchvision)()
        name = args.torchvision
    else:
        mod, _, fn = args.module.partition(":")
        model = getattr(importlib.import_module(mod), fn)()
        name = fn
    dtype = {"fp32": torch.float32, "fp16": torch.float16, "bf16": torch.bfloat16}[args.dtype]
    model = model.to(dtype)
    shape = [int(s) for s in args.input.split(",")]
    doc = export(model, torch.zeros(shape, dtype=dtype), args.name or name)
    if args.out.endswith(".json"):
        text = json.dumps(doc, indent=1) + "\n"
    else:
        import yaml
        text = yaml.safe_dump(doc, sort_keys=False)
    with open(args.out, "w") as f:
        f.write(text)
    print(f"{args.out}: {doc['name']} ({len(doc['ops'])} ops, {len(doc['tensors'])} tensors)")


if __name__ == "__main__":
    main()
