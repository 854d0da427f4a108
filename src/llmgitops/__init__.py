"""llmgitops: LLM deployments the GitOps way."""

__version__ = "0.1.0"
