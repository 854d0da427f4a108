"""llmgitops validate vs check-jsonschema on the same Model manifests and schema.

    python benchmarks/bench_validate.py [--files 1000] [--rounds 5]

Both run as the command a hook or CI job runs (a fresh process each time), alternating, on identical
files; check-jsonschema gets the same schema with --base-uri so its relative $refs resolve offline.
llmgitops does more per file (duplicate keys, tags, names, folders, references, semantic checks).
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

from _timing import alternate

ROOT = Path(__file__).resolve().parents[1]
SCHEMAS = ROOT / "schemas" / "v1alpha1"

ENVIRONMENT = """apiVersion: llmgitops.dev/v1alpha1
kind: Environment
metadata:
  name: bench
spec:
  promotion:
    from: null
"""

MODEL = """# yaml-language-server: $schema=../../../schemas/v1alpha1/model.json
apiVersion: llmgitops.dev/v1alpha1
kind: Model
metadata:
  name: {name}
  labels:
    team: support
  annotations:
    llmgitops.dev/owner: ml-platform
spec:
  version: 1.{minor}.0
  description: Support assistant model number {i}, fine-tuned on the support transcripts.
  baseModel:
    id: google/gemma-3-270m-it
    revision: 9b0cfec892e2bc2afd938c98eabe4e4a7b1e0ca1
  weights:
    format: safetensors
    storageUri: s3://models/support/{name}
  quantization:
    method: none
  interface:
    maxContextTokens: 32768
    capabilities: [chat, json-mode]
  serving:
    runtime: vllm
    args:
      max_model_len: 8192
      tensor_parallel_size: 1
      gpu_memory_utilization: 0.9
    resources:
      requests: {{cpu: "2", memory: 8Gi}}
      limits: {{cpu: "4", memory: 16Gi}}
    replicas:
      min: 1
      max: 4
"""


def build(tmp: Path, files: int) -> list[str]:
    env = tmp / "environments" / "bench"
    (env / "models").mkdir(parents=True)
    (env / "environment.yaml").write_text(ENVIRONMENT)
    shutil.copytree(SCHEMAS, tmp / "schemas" / "v1alpha1")
    rels = []
    for i in range(files):
        name = f"model-{i:04d}"
        (env / "models" / f"{name}.yaml").write_text(MODEL.format(name=name, i=i, minor=i % 17))
        rels.append(f"environments/bench/models/{name}.yaml")
    (tmp / ".git").mkdir()
    return rels


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--files", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    llmgitops, cjs = shutil.which("llmgitops"), shutil.which("check-jsonschema")
    if not llmgitops or not cjs:
        sys.exit("needs llmgitops and check-jsonschema on PATH (pip install -e '.[dev]')")
    with tempfile.TemporaryDirectory() as td:
        tmp = Path(td)
        rels = build(tmp, args.files)
        schema = str(tmp / "schemas/v1alpha1/model.json")
        base = ["--schemafile", schema, "--base-uri", (tmp / "schemas/v1alpha1").as_uri() + "/"]
        many = alternate({
            "llmgitops": ([llmgitops, "validate", "environments/bench"], 0),
            "check-jsonschema": ([cjs, *base, *rels], 0),
        }, tmp, args.rounds)
        one = alternate({
            "llmgitops": ([llmgitops, "validate", rels[0]], 0),
            "check-jsonschema": ([cjs, *base, rels[0]], 0),
        }, tmp, args.rounds)
        # a hook on one changed file in a realistic environment (a few dozen manifests)
        for extra in rels[40:]:
            (tmp / extra).unlink()
        hook = alternate({
            "llmgitops": ([llmgitops, "validate", rels[0]], 0),
            "check-jsonschema": ([cjs, *base, rels[0]], 0),
        }, tmp, args.rounds)
    print(f"{args.files} Model manifests, median of {args.rounds} alternating runs (wall seconds)")
    print(f"  llmgitops validate   {many['llmgitops']:.3f}")
    print(f"  check-jsonschema     {many['check-jsonschema']:.3f}")
    print(f"  ratio                {many['llmgitops'] / many['check-jsonschema']:.2f}x  (goal <= 0.5x)")
    print(f"one named file, its environment of {args.files} validated whole for references")
    print(f"  llmgitops validate   {one['llmgitops']:.3f}")
    print(f"  check-jsonschema     {one['check-jsonschema']:.3f}")
    print(f"  ratio                {one['llmgitops'] / one['check-jsonschema']:.2f}x")
    print("hook on one file in an environment of 40 manifests")
    print(f"  llmgitops validate   {hook['llmgitops']:.3f}")
    print(f"  check-jsonschema     {hook['check-jsonschema']:.3f}")
    print(f"  ratio                {hook['llmgitops'] / hook['check-jsonschema']:.2f}x  (goal <= 1x)")


if __name__ == "__main__":
    main()
