"""A small repository that exercises every pipeline feature the Argo backend renders: a Model that
trains on GPUs, a sharded evaluation, a RagConfig, a canary with custom weights, two approvals.

Independent of the bundled example, so the golden files move only when rendering changes.
"""

from __future__ import annotations

from pathlib import Path

HEAD = "apiVersion: llmgitops.dev/v1alpha1\n"

ENV_DEV = HEAD + """kind: Environment
metadata:
  name: dev
spec:
  promotion:
    from: null
  deploy:
    target: local
"""

ENV_STAGING = HEAD + """kind: Environment
metadata:
  name: staging
  annotations:
    llmgitops.dev/repo-url: https://git.example.com/acme/llm-config.git
    llmgitops.dev/app-image: registry.example.com/acme/assistant:1.4.2
spec:
  promotion:
    from: dev
    approval:
      required: true
      approvers: [acme/owners, acme/platform]
      minApprovals: 2
    allowPrerelease: false
  gates:
    minPassRate: 0.8
    maxRegression: 0.05
  deploy:
    namespace: assistant-staging
    target: kserve
    steps: [10, 50, 100]
    analysis:
      interval: 2m
      failureLimit: 1
      metrics:
        - name: error-rate
          query: sum(rate(http_requests_total{code=~"5.."}[2m])) / sum(rate(http_requests_total[2m]))
          threshold: 0.02
          comparison: "<"
  argo:
    image: registry.example.com/platform/llmgitops:0.1.0
    serviceAccount: llmgitops-pipeline
    namespace: argo
  overrides:
    - target:
        kind: Model
        name: chat
      patch:
        serving:
          replicas:
            min: 2
            max: 4
"""

MODEL = HEAD + """kind: Model
metadata:
  name: chat
spec:
  version: 1.3.0
  baseModel:
    id: google/gemma-3-270m
  weights:
    format: safetensors
    storageUri: s3://models/chat/1.3.0
  training:
    method: lora
    datasets:
      - name: sft
        version: ^1.0.0
    hyperparameters:
      learning_rate: 0.0002
    resources:
      gpu: 2
      memory: 32Gi
  interface:
    maxContextTokens: 8192
  serving:
    runtime: vllm
    args:
      max_model_len: 4096
      dtype: bfloat16
    resources:
      requests:
        cpu: "2"
        memory: 8Gi
        gpu: 1
      limits:
        gpu: 1
    replicas:
      min: 1
      max: 2
"""

PROMPT = HEAD + """kind: Prompt
metadata:
  name: answer
spec:
  version: 2.0.0
  type: chat
  modelRef:
    name: chat
    version: ^1.3.0
  input:
    question:
      type: string
      required: true
      source: user
  messages:
    - role: system
      content: Answer briefly.
    - role: user
      content: "<question>{{ question }}</question>"
"""

DATASET_QA = HEAD + """kind: Dataset
metadata:
  name: qa
spec:
  version: 1.0.0
  purpose: evaluation
  path: data/qa.jsonl
  format: jsonl
  records: 2500
  license: CC-BY-4.0
  pii:
    contains: false
"""

DATASET_SFT = HEAD + """kind: Dataset
metadata:
  name: sft
spec:
  version: 1.0.0
  purpose: training
  path: data/sft.jsonl
  format: jsonl
  license: CC-BY-4.0
  pii:
    contains: false
"""

DATASET_DOCS = HEAD + """kind: Dataset
metadata:
  name: docs
spec:
  version: 1.0.0
  purpose: rag-corpus
  path: data/docs.jsonl
  format: jsonl
  license: CC-BY-4.0
  pii:
    contains: false
"""

SUITE = HEAD + """kind: EvalSuite
metadata:
  name: answer-quality
spec:
  version: 1.0.0
  targets:
    - kind: Prompt
      name: answer
      version: ^2.0.0
  dataset:
    name: qa
    version: ^1.0.0
  metrics:
    - name: mentions
      type: contains-any
      threshold: 1.0
  gates:
    minPassRate: 0.8
  runner:
    shards: 3
"""

RAG = HEAD + """kind: RagConfig
metadata:
  name: docs
spec:
  version: 1.0.0
  sources:
    - name: docs
      version: ^1.0.0
  chunking:
    unit: characters
    size: 800
    overlap: 100
  embedding:
    model:
      id: sentence-transformers/all-MiniLM-L6-v2
    dimensions: 384
    normalize: true
  index:
    store: faiss
    collection: docs-v1
    distance: cosine
  retrieval:
    topK: 4
"""

ARTIFACTS = {
    "models/chat.yaml": MODEL,
    "prompts/answer.yaml": PROMPT,
    "datasets/qa.yaml": DATASET_QA,
    "datasets/sft.yaml": DATASET_SFT,
    "datasets/docs.yaml": DATASET_DOCS,
    "evals/answer-quality.yaml": SUITE,
    "rag/docs.yaml": RAG,
}

DATA = {
    "data/qa.jsonl": '{"id": "q1", "question": "What is a backup?", "expected": ["copy"]}\n',
    "data/sft.jsonl": '{"id": "s1", "messages": []}\n',
    "data/docs.jsonl": '{"id": "d1", "text": "A backup is a copy."}\n',
}


def write(root: Path, staging: dict[str, str | None] | None = None, dev: dict[str, str | None] | None = None) -> Path:
    """The repository with dev and staging holding the same artifacts; ``staging``/``dev`` override or
    (with None) remove files of one environment, by path inside it."""
    files: dict[str, str | None] = {"environments/dev/environment.yaml": ENV_DEV,
                                    "environments/staging/environment.yaml": ENV_STAGING, **DATA}
    for env, extra in (("dev", dev or {}), ("staging", staging or {})):
        for rel, text in {**ARTIFACTS, **extra}.items():
            files[f"environments/{env}/{rel}"] = text
    for rel, text in files.items():
        path = root / rel
        if text is None:
            path.unlink(missing_ok=True)
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root
