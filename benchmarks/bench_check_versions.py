"""llmgitops check-versions --base vs check-jsonschema on the same changed manifests.

    python benchmarks/bench_check_versions.py [--rounds 5] [--changed 50]

Builds two real repositories with `git fast-import` (fast: one process writes every object):
  large: 5,000 Prompt manifests across dev, staging and prod, 1,000 commits of history;
  small:   500 Prompt manifests across dev, staging and prod,    10 commits of history.
On a branch of each, --changed manifests get new wording and a minor bump. Then, alternating, each
command runs as a CI job runs it (a fresh process every time):
  llmgitops check-versions --base main --head feature   (semantic diff, cross-environment and history
                                                          immutability checks of the changed manifests)
  check-jsonschema --schemafile prompt.json FILES...     (schema validation of the same changed files)
and the medians are printed with their ratio. check-versions should cost about the same on both
repositories: its work follows the size of the change, not of the repository or its history. The
history it needs for immutability is kept in a ledger in the git directory and extended by the new
commits only (gitrepo/ledger.py); the first run in a fresh clone walks the whole history once, and that
"cold" figure is printed too.
"""

from __future__ import annotations

import argparse
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _timing import alternate, wall

ROOT = Path(__file__).resolve().parents[1]
SCHEMAS = ROOT / "schemas" / "v1alpha1"
ENVS = ("dev", "staging", "prod")

ENVIRONMENT = """apiVersion: llmgitops.dev/v1alpha1
kind: Environment
metadata:
  name: {env}
spec:
  promotion:
    from: {source}
"""

PROMPT = """# yaml-language-server: $schema=../../../schemas/v1alpha1/prompt.json
apiVersion: llmgitops.dev/v1alpha1
kind: Prompt
metadata:
  name: {name}
  labels:
    team: support
spec:
  version: "1.{minor}.0"
  description: Answers support question number {i} from the help center.
  type: chat
  modelRef:
    name: chat
    version: "^1.0.0"
  config:
    temperature: 0.2
    maxOutputTokens: 300
  input:
    question:
      type: string
      required: true
      source: user
      maxLength: 2000
    context:
      type: string
      default: ""
      source: retrieved
  output:
    format: text
  messages:
    - role: system
      content: |
        You answer questions about Acme Cloud Backup ({wording}).
        Use only the context below. Context: {{{{ context }}}}
    - role: user
      content: "<question>{{{{ question }}}}</question>"
"""


def prompt(i: int, minor: int, wording: str) -> bytes:
    return PROMPT.format(name=f"prompt-{i:05d}", i=i, minor=minor, wording=wording).encode()


def path_of(env: str, i: int) -> str:
    return f"environments/{env}/prompts/prompt-{i:05d}.yaml"


def _file(path: str, data: bytes) -> bytes:
    return b"M 100644 inline " + path.encode() + b"\ndata " + str(len(data)).encode() + b"\n" + data + b"\n"


def _commit(ref: str, n: int, message: str, parent: bool, files: list[bytes]) -> bytes:
    msg = message.encode()
    head = (f"commit {ref}\nmark :{n}\ncommitter Bench <bench@example.com> {1_700_000_000 + n} +0000\n"
            f"data {len(msg)}\n").encode() + msg + b"\n"
    if parent:
        head += f"from :{n - 1}\n".encode()
    return head + b"".join(files) + b"\n"


def build(root: Path, manifests: int, commits: int, changed: int, seed: int = 7) -> list[str]:
    """A repository with ``manifests`` prompts over three environments and ``commits`` commits on main;
    branch ``feature`` changes ``changed`` dev prompts (new wording, minor bump). Returns their paths."""
    rng = random.Random(seed)
    per_env = manifests // len(ENVS)
    minor = {(env, i): 0 for env in ENVS for i in range(per_env)}
    stream = []
    first = [_file(f"environments/{env}/environment.yaml",
                   ENVIRONMENT.format(env=env, source="null" if k == 0 else ENVS[k - 1]).encode())
             for k, env in enumerate(ENVS)]
    first += [_file(path_of(env, i), prompt(i, 0, "v0")) for env in ENVS for i in range(per_env)]
    stream.append(_commit("refs/heads/main", 1, "initial", False, first))
    for n in range(2, commits + 1):
        files = []
        for _ in range(5):  # every commit publishes a new minor of a few prompts
            key = (rng.choice(ENVS), rng.randrange(per_env))
            minor[key] += 1
            files.append(_file(path_of(*key), prompt(key[1], minor[key[0], key[1]], f"v{minor[key]}")))
        stream.append(_commit("refs/heads/main", n, f"change {n}", True, files))
    chosen = rng.sample(range(per_env), changed)
    # a version no environment has published yet: same name and version means same content everywhere
    feature = [_file(path_of("dev", i), prompt(i, max(minor[env, i] for env in ENVS) + 1, "reworded"))
               for i in chosen]
    stream.append(_commit("refs/heads/feature", commits + 1, "reword", True, feature))
    subprocess.run(["git", "init", "-q", "-b", "main", str(root)], check=True)
    subprocess.run(["git", "fast-import", "--quiet"], cwd=root, input=b"".join(stream), check=True)
    subprocess.run(["git", "checkout", "-q", "feature"], cwd=root, check=True)
    shutil.copytree(SCHEMAS, root / "schemas" / "v1alpha1")
    return [path_of("dev", i) for i in chosen]


def measure(label: str, manifests: int, commits: int, changed: int, rounds: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="bench-check-versions-") as tmp:
        root = Path(tmp) / "repo"
        start = time.perf_counter()
        files = build(root, manifests, commits, changed)
        built = time.perf_counter() - start
        schema_dir = (root / "schemas" / "v1alpha1").as_uri() + "/"
        commands = {
            "llmgitops check-versions": (
                [sys.executable, "-m", "llmgitops", "check-versions", "--base", "main", "--head", "feature",
                 "--format", "json"], 0),
            "check-jsonschema": (
                [shutil.which("check-jsonschema") or "check-jsonschema", "--schemafile",
                 str(root / "schemas" / "v1alpha1" / "prompt.json"), "--base-uri", schema_dir, *files], 0),
        }
        medians = alternate(commands, root, rounds)
        cold_runs = []
        for _ in range(max(3, rounds // 2)):
            shutil.rmtree(root / ".git" / "llmgitops", ignore_errors=True)  # forget the history ledger
            cold_runs.append(wall(commands["llmgitops check-versions"][0], root, 0))
        medians["cold"] = statistics.median(cold_runs)
    ours, theirs = medians["llmgitops check-versions"], medians["check-jsonschema"]
    print(f"{label}: {manifests} manifests, {commits} commits, {changed} changed (built in {built:.1f}s)")
    print(f"  llmgitops check-versions --base  median {ours * 1000:8.1f} ms")
    print(f"  check-jsonschema (same {changed} files) median {theirs * 1000:8.1f} ms")
    print(f"  ratio check-versions / check-jsonschema: {ours / theirs:.2f}")
    print(f"  check-versions with no history ledger yet (first run in a fresh clone) median "
          f"{medians['cold'] * 1000:8.1f} ms")
    return medians


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--changed", type=int, default=50)
    args = parser.parse_args()
    if shutil.which("check-jsonschema") is None:
        print("check-jsonschema is not installed (pip install check-jsonschema)", file=sys.stderr)
        return 2
    large = measure("large", 5000, 1000, args.changed, args.rounds)
    small = measure("small", 500, 10, args.changed, args.rounds)
    key = "llmgitops check-versions"
    print(f"check-versions large/small: {large[key] / small[key]:.2f} (1.00 = independent of repository size); "
          f"first run: {large['cold'] / small['cold']:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
