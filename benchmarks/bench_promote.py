"""Promotion plan + render: 200 changed artifacts in a repository of 2,000 manifests, and how the time
grows with the number of changed artifacts (20 / 200 / 2,000, in environments of 2,000 manifests each).

    python benchmarks/bench_promote.py [--rounds 5]

Both sides run in this process on the same repository, alternating:
  * promote:    `llmgitops promote dev staging --dry-run`'s work — read both folders from the commit,
                validate dev, plan (semantic diff of every changed artifact), check the policy, render
                staging's Argo manifests as the promotion leaves them, write the PR description;
  * read floor: reading the same two folders from the commit and parsing every manifest, which any
                promotion must do (the work that does not depend on the change).
Prints medians and the ratio, and for the scaling series the cost of each additional changed artifact
(flat means linear).
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

HEAD = "apiVersion: llmgitops.dev/v1alpha1\n"
PER_SCALE = {"Model": 200, "Prompt": 400, "Dataset": 200, "EvalSuite": 200}  # 1,000 manifests per environment


def env_file(name: str, source: str | None, target: str) -> str:
    extra = ""
    if target == "kserve":
        extra = ("  annotations:\n    llmgitops.dev/repo-url: https://git.example.com/acme/cfg.git\n"
                 "    llmgitops.dev/app-image: registry.example.com/acme/app:1.0.0\n")
        deploy = f"  deploy:\n    target: kserve\n    namespace: {name}-ns\n"
    else:
        deploy = "  deploy:\n    target: local\n"
    return (HEAD + f"kind: Environment\nmetadata:\n  name: {name}\n{extra}spec:\n  promotion:\n"
            f"    from: {source or 'null'}\n{deploy}")


def model(i: int, changed: bool) -> str:
    version, length = ("1.0.1", 2048) if changed else ("1.0.0", 4096)
    return HEAD + f"""kind: Model
metadata:
  name: model-{i}
spec:
  version: {version}
  baseModel:
    id: org/base-{i % 7}
  weights:
    format: safetensors
    storageUri: s3://models/model-{i}/1.0.0
  interface:
    maxContextTokens: 8192
  serving:
    runtime: vllm
    args:
      max_model_len: {length}
"""


def prompt(i: int, changed: bool, models: int) -> str:
    version, wording = ("1.1.0", "Answer briefly and kindly.") if changed else ("1.0.0", "Answer briefly.")
    return HEAD + f"""kind: Prompt
metadata:
  name: prompt-{i}
spec:
  version: {version}
  type: chat
  modelRef:
    name: model-{i % models}
    version: ^1.0.0
  input:
    question:
      type: string
      required: true
  messages:
    - role: system
      content: {wording}
    - role: user
      content: "{{{{ question }}}}"
"""


def dataset(i: int, changed: bool) -> str:
    version, note = ("1.0.1", "Corrected typos.") if changed else ("1.0.0", "Questions.")
    return HEAD + f"""kind: Dataset
metadata:
  name: data-{i}
spec:
  version: {version}
  description: {note}
  purpose: evaluation
  path: data/data-{i}.jsonl
  format: jsonl
  license: CC-BY-4.0
  pii:
    contains: false
"""


def suite(i: int, changed: bool) -> str:
    version, threshold = ("1.1.0", 0.9) if changed else ("1.0.0", 0.8)
    return HEAD + f"""kind: EvalSuite
metadata:
  name: suite-{i}
spec:
  version: {version}
  targets:
    - kind: Prompt
      name: prompt-{i * 2}
      version: ^1.0.0
  dataset:
    name: data-{i}
    version: ^1.0.0
  metrics:
    - name: mentions
      type: contains-any
      threshold: {threshold}
"""


def build(root: Path, scale: int, changed: int) -> None:
    """dev and staging hold the same artifacts (1,000 per environment per unit of ``scale``); ``changed``
    of dev's are changed and bumped — prompts first, spread evenly, then models, datasets, suites."""
    counts = {kind: n * scale for kind, n in PER_SCALE.items()}
    order = [("Prompt", i) for i in range(counts["Prompt"])]
    step = max(1, counts["Prompt"] // max(1, min(changed, counts["Prompt"])))
    order = order[::step] + [x for x in order if x not in order[::step]]
    order += [(kind, i) for kind in ("Model", "Dataset", "EvalSuite") for i in range(counts[kind])]
    moved = set(order[:changed])
    files: dict[str, str] = {
        "environments/dev/environment.yaml": env_file("dev", None, "local"),
        "environments/staging/environment.yaml": env_file("staging", "dev", "kserve"),
    }
    for env in ("dev", "staging"):
        base = f"environments/{env}"
        new = env == "dev"
        for i in range(counts["Model"]):
            files[f"{base}/models/model-{i}.yaml"] = model(i, new and ("Model", i) in moved)
        for i in range(counts["Prompt"]):
            files[f"{base}/prompts/prompt-{i}.yaml"] = prompt(i, new and ("Prompt", i) in moved, counts["Model"])
        for i in range(counts["Dataset"]):
            files[f"{base}/datasets/data-{i}.yaml"] = dataset(i, new and ("Dataset", i) in moved)
        for i in range(counts["EvalSuite"]):
            files[f"{base}/evals/suite-{i}.yaml"] = suite(i, new and ("EvalSuite", i) in moved)
    for i in range(counts["Dataset"]):
        files[f"data/data-{i}.jsonl"] = '{"id": "1", "question": "q", "expected": ["a"]}\n'
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    for args in (["init", "-q", "-b", "main"], ["add", "-A"],
                 ["-c", "user.email=b@e", "-c", "user.name=bench", "commit", "-q", "-m", "bench"]):
        subprocess.run(["git", *args], cwd=root, check=True)


def promote_side(root: Path) -> Callable[[], int]:
    from llmgitops.promotion import prepare

    def run() -> int:
        prepared = prepare(root, "dev", "staging")
        assert not prepared.blocked, prepared.findings[:3]
        return len(prepared.plan.items)

    return run


def floor_side(root: Path) -> Callable[[], int]:
    from llmgitops.gitrepo import Git, GitTree
    from llmgitops.manifests.repository import Repository

    def run() -> int:
        repo = Repository(GitTree(Git.discover(root), "HEAD"))
        return sum(len(repo.environment(env).manifests) for env in ("dev", "staging"))

    return run


def median_times(sides: dict[str, Callable[[], int]], rounds: int) -> dict[str, float]:
    """Median wall seconds of each side, and (as "<side> cpu") the median CPU seconds of this process:
    on a shared machine wall time includes waiting for a core, CPU time does not."""
    times: dict[str, list[float]] = {name: [] for name in sides}
    cpu: dict[str, list[float]] = {name: [] for name in sides}
    for fn in sides.values():
        fn()  # warm-up: imports, compiled schemas
    for _ in range(rounds):
        for name, fn in sides.items():
            start, start_cpu = time.perf_counter(), time.process_time()
            fn()
            times[name].append(time.perf_counter() - start)
            cpu[name].append(time.process_time() - start_cpu)
    out = {name: statistics.median(v) for name, v in times.items()}
    out.update({f"{name} cpu": statistics.median(v) for name, v in cpu.items()})
    return out


def measure(scale: int, changed: int, rounds: int) -> tuple[dict[str, float], int]:
    with tempfile.TemporaryDirectory(prefix="bench-promote-") as tmp:
        root = Path(tmp)
        build(root, scale, changed)
        items = promote_side(root)()
        return median_times({"promote": promote_side(root), "floor": floor_side(root)}, rounds), items


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    header = (f"{'manifests':>10} {'changed':>8} {'promote s':>10} {'floor s':>8} {'ratio':>6} "
              f"{'promote cpu s':>14} {'floor cpu s':>12}")

    def row(scale: int, changed: int) -> tuple[float, float]:
        med, items = measure(scale, changed, args.rounds)
        print(f"{2000 * scale:>10,} {changed:>8,} {med['promote']:>10.3f} {med['floor']:>8.3f} "
              f"{med['promote'] / med['floor']:>6.1f} {med['promote cpu']:>14.3f} {med['floor cpu']:>12.3f}"
              f"   ({items} plan items)", flush=True)
        return med["promote"], med["promote cpu"]

    print("headline: a repository of 2,000 manifests (1,000 per environment)")
    print(header)
    headline, _ = row(1, 200)
    print("\nscaling: environments of 2,000 manifests each (a repository of 4,000), 20 / 200 / 2,000 changed")
    print(header)
    points = [(changed, row(2, changed)) for changed in (20, 200, 2000)]
    for (n0, (t0, c0)), (n1, (t1, c1)) in itertools.pairwise(points):
        # linear growth shows as a flat (or falling) cost per additional changed artifact
        print(f"  {n0:,} -> {n1:,} changed: {(t1 - t0) / (n1 - n0) * 1000:.2f} ms wall, "
              f"{(c1 - c0) / (n1 - n0) * 1000:.2f} ms cpu per additional changed artifact")
    verdict = "PASS" if headline <= 2.0 else "FAIL"
    print(f"\nplan + render, 200 changed artifacts, 2,000 manifests: {headline:.3f} s (budget 2 s): {verdict}")
    return 0 if verdict == "PASS" else 1


if __name__ == "__main__":
    sys.exit(main())
