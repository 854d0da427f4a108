"""Record the reference answers of support-qa as replay recordings for offline demo runs.

    python data/recordings/record_reference.py

Starts a loopback OpenAI-compatible server that answers each support question with the reference
answer the dataset holds for it, and runs `llmgitops eval run support-answer-quality --env dev --record`
against it. The pipeline of the quick start evaluates from these recordings (staging's `replay`
provider), so the whole loop runs in seconds on any machine. They are a stand-in for a served model
that answers well, not the output of one: evaluate the real embedded model with `--provider embedded`
(slow on a CPU, and the 270M base model does not meet the answer-quality gates).
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
QA = [json.loads(line) for line in (ROOT / "data/eval/support-qa.jsonl").read_text().splitlines() if line.strip()]


class Reference(BaseHTTPRequestHandler):
    def log_message(self, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        request = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        text = " ".join(str(m.get("content", "")) for m in request.get("messages", []))
        case = next((c for c in QA if c["question"].strip() in text), None)
        answer = case["reference_answer"] if case else "I don't know; please contact support."
        body = json.dumps({
            "id": "ref", "object": "chat.completion", "created": 0, "model": request.get("model"),
            "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": answer}}],
            "usage": {"prompt_tokens": len(text.split()), "completion_tokens": len(answer.split()),
                      "total_tokens": len(text.split()) + len(answer.split())},
        }).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def main() -> int:
    server = HTTPServer(("127.0.0.1", 0), Reference)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    target = ROOT / "data/recordings/staging/support-answer-quality.jsonl"
    target.unlink(missing_ok=True)
    try:
        with tempfile.TemporaryDirectory() as reports:
            done = subprocess.run(
                [sys.executable, "-m", "llmgitops", "eval", "run", "support-answer-quality", "--env", "dev",
                 "--provider", f"openai:http://127.0.0.1:{server.server_port}/v1", "--record", str(target),
                 "--no-cache", "--quiet", "--report", reports], cwd=ROOT)
    finally:
        server.shutdown()
    print(f"recorded {target.relative_to(ROOT)}" if target.is_file() else "nothing recorded", file=sys.stderr)
    return done.returncode


if __name__ == "__main__":
    raise SystemExit(main())
