"""The manifest kinds: where each lives, which schema validates it, whether it is promoted."""

from __future__ import annotations

from dataclasses import dataclass

API_VERSION = "llmgitops.dev/v1alpha1"
ENVIRONMENTS_DIR = "environments"
ENVIRONMENT_FILE = "environment.yaml"
YAML_SUFFIXES = (".yaml", ".yml")


@dataclass(frozen=True)
class Kind:
    name: str
    folder: str  # folder inside an environment; "" for the environment file itself
    schema: str  # schema file name in schemas/v1alpha1/
    promotable: bool = True


KINDS: dict[str, Kind] = {
    k.name: k
    for k in (
        Kind("Model", "models", "model.json"),
        Kind("Prompt", "prompts", "prompt.json"),
        Kind("RagConfig", "rag", "ragconfig.json"),
        Kind("Dataset", "datasets", "dataset.json"),
        Kind("EvalSuite", "evals", "evalsuite.json"),
        Kind("Environment", "", "environment.json", promotable=False),
    )
}
FOLDER_KINDS: dict[str, Kind] = {k.folder: k for k in KINDS.values() if k.folder}
