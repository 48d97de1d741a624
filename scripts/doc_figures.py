#!/usr/bin/env python3
"""Checks that the figures the docs quote are what the code produces now, or rewrites them.

A figure the code produces is written in Markdown as

    <!--fig run=configs/experiments/nimble.yaml metric=inference.resnet50.nimble.speedup_vs_eager-->1.71<!--/fig-->

(invisible when rendered). `run=FILE` runs `warpsim run FILE`, `validate="ARGS"` runs
`warpsim validate ARGS`; `args="--set k=v ..."` adds arguments; `scale=100` multiplies (a
percentage). The figure is compared as written: as many decimals as the text has. Each command
runs once however many figures quote it.

    scripts/doc_figures.py [--fix] WARPSIM [ROOT]     # exit 1 when a figure drifted (--fix: rewrite)
"""
import json
import pathlib
import re
import shlex
import subprocess
import sys
import tempfile

FIG = re.compile(r"<!--fig (?P<attrs>[^>]*?)-->(?P<value>[^<]*)<!--/fig-->")
DOCS = ["README.md", "docs"]


def attrs_of(text):
    out = {}
    for word in shlex.split(text):
        key, _, value = word.partition("=")
        out[key] = value
    return out


def command_of(a):
    if "run" in a:
        return ["run", a["run"]] + shlex.split(a.get("args", ""))
    if "validate" in a:
        return ["validate"] + shlex.split(a["validate"]) + shlex.split(a.get("args", ""))
    raise ValueError(f"a figure needs run= or validate=: {a}")


def written_as(value, like):
    decimals = len(like.split(".")[1]) if "." in like else 0
    return f"{value:.{decimals}f}"


def main(argv):
    fix = "--fix" in argv
    args = [a for a in argv if a != "--fix"]
    if not args:
        print(__doc__)
        return 2
    warpsim = args[0]
    root = pathlib.Path(args[1] if len(args) > 1 else ".").resolve()
    files = []
    for d in DOCS:
        p = root / d
        files += sorted(p.glob("*.md")) if p.is_dir() else [p]
    cache, drifted, checked = {}, [], 0
    with tempfile.TemporaryDirectory() as tmp:
        for f in files:
            text = f.read_text()
            out = []
            last = 0
            for m in FIG.finditer(text):
                a = attrs_of(m.group("attrs"))
                cmd = tuple(command_of(a))
                if cmd not in cache:
                    folder = pathlib.Path(tmp) / str(len(cache))
                    r = subprocess.run([warpsim, *cmd, "--out", str(folder)], cwd=root,
                                       capture_output=True, text=True)
                    if r.returncode not in (0, 3):  # 3: validate's gate, still a result
                        print(f"{f}: `warpsim {' '.join(cmd)}` failed:\n{r.stdout}{r.stderr}")
                        return 1
                    cache[cmd] = json.loads((folder / "metrics.json").read_text())
                metrics = cache[cmd]
                key = a["metric"]
                if key not in metrics:
                    print(f"{f}: no metric '{key}' from `warpsim {' '.join(cmd)}`")
                    return 1
                now = written_as(metrics[key] * float(a.get("scale", 1)), m.group("value"))
                checked += 1
                if now != m.group("value"):
                    line = text.count("\n", 0, m.start()) + 1
                    drifted.append(f"{f.relative_to(root)}:{line}: {key} is {now}, the text says "
                                   f"{m.group('value')}")
                out.append(text[last:m.start("value")] + now)
                last = m.end("value")
            out.append(text[last:])
            if fix:
                f.write_text("".join(out))
    for d in drifted:
        print(d)
    print(f"doc figures: {checked} checked, {len(drifted)} drifted"
          + (" (rewritten)" if fix and drifted else ""))
    return 1 if drifted and not fix else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
