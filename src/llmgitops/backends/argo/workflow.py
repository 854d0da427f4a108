"""The pipeline as Argo Workflows objects, built with the Argo Workflows SDK models.

One WorkflowTemplate per environment holds a template per step kind; the promotion Workflow of an
environment state is a DAG of tasks that reference those templates. Parameters carry identities and the
Git revision only: each container step clones the repository at that revision and reads its manifests
there, so no manifest text is ever part of a Workflow.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from ...pipeline.model import (
    ANALYZE,
    APPROVE,
    DEPLOY_CANARY,
    EVAL_MERGE,
    EVALUATE,
    PROMOTE_FULL,
    REINDEX,
    TRAIN,
    VALIDATE,
    Pipeline,
    Step,
)
from ...pipeline.settings import Settings
from . import typed as t

REPO_PATH = "/work/repo"
OUT_DIR = "/tmp/llmgitops"
TRANSIENT_EXIT = 75  # EX_TEMPFAIL: a step says "try again", any other failure is final
RETRY_EXPRESSION = f'asInt(lastRetry.exitCode) == {TRANSIENT_EXIT} || lastRetry.status == "Error"'
WAVE = "argocd.argoproj.io/sync-wave"
SYNC_OPTIONS = "argocd.argoproj.io/sync-options"
LABEL_ENV = "llmgitops.dev/environment"
LABEL_STATE = "llmgitops.dev/state"
PART_OF = {"app.kubernetes.io/managed-by": "llmgitops"}
APPROVAL_DECISION = "approval-decision"
APPROVAL_APPROVERS = "approval-approvers"


@dataclass(frozen=True)
class Targets:
    """What the cluster steps act on: InferenceServices whose predictor changes, and the app Rollout."""

    models: tuple[str, ...]  # changed Models served by KServe (canary); added ones start at full traffic
    rollout: str | None  # the app Rollout, when a Prompt or RagConfig changed


def template_name(env: str) -> str:
    return f"llmgitops-{env}"


def workflow_name(env: str, state: str) -> str:
    return f"llmgitops-{env}-{state[:12]}"


def rollout_name(env: str) -> str:
    return f"llmgitops-{env}-app"


def _m() -> Any:
    """The SDK model classes, imported on first use (the package is large)."""
    from argo_workflows.model import (
        container,
        env_var,
        io_argoproj_workflow_v1alpha1_archive_strategy,
        io_argoproj_workflow_v1alpha1_arguments,
        io_argoproj_workflow_v1alpha1_artifact,
        io_argoproj_workflow_v1alpha1_backoff,
        io_argoproj_workflow_v1alpha1_dag_task,
        io_argoproj_workflow_v1alpha1_dag_template,
        io_argoproj_workflow_v1alpha1_git_artifact,
        io_argoproj_workflow_v1alpha1_inputs,
        io_argoproj_workflow_v1alpha1_mutex,
        io_argoproj_workflow_v1alpha1_outputs,
        io_argoproj_workflow_v1alpha1_parameter,
        io_argoproj_workflow_v1alpha1_pod_gc,
        io_argoproj_workflow_v1alpha1_resource_template,
        io_argoproj_workflow_v1alpha1_retry_strategy,
        io_argoproj_workflow_v1alpha1_s3_artifact,
        io_argoproj_workflow_v1alpha1_suspend_template,
        io_argoproj_workflow_v1alpha1_synchronization,
        io_argoproj_workflow_v1alpha1_template,
        io_argoproj_workflow_v1alpha1_template_ref,
        io_argoproj_workflow_v1alpha1_value_from,
        io_argoproj_workflow_v1alpha1_workflow,
        io_argoproj_workflow_v1alpha1_workflow_spec,
        io_argoproj_workflow_v1alpha1_workflow_template,
        object_meta,
        resource_requirements,
    )

    class M:
        Container = container.Container
        EnvVar = env_var.EnvVar
        ArchiveStrategy = io_argoproj_workflow_v1alpha1_archive_strategy.IoArgoprojWorkflowV1alpha1ArchiveStrategy
        Arguments = io_argoproj_workflow_v1alpha1_arguments.IoArgoprojWorkflowV1alpha1Arguments
        Artifact = io_argoproj_workflow_v1alpha1_artifact.IoArgoprojWorkflowV1alpha1Artifact
        Backoff = io_argoproj_workflow_v1alpha1_backoff.IoArgoprojWorkflowV1alpha1Backoff
        DAGTask = io_argoproj_workflow_v1alpha1_dag_task.IoArgoprojWorkflowV1alpha1DAGTask
        DAGTemplate = io_argoproj_workflow_v1alpha1_dag_template.IoArgoprojWorkflowV1alpha1DAGTemplate
        GitArtifact = io_argoproj_workflow_v1alpha1_git_artifact.IoArgoprojWorkflowV1alpha1GitArtifact
        Inputs = io_argoproj_workflow_v1alpha1_inputs.IoArgoprojWorkflowV1alpha1Inputs
        Mutex = io_argoproj_workflow_v1alpha1_mutex.IoArgoprojWorkflowV1alpha1Mutex
        Outputs = io_argoproj_workflow_v1alpha1_outputs.IoArgoprojWorkflowV1alpha1Outputs
        Parameter = io_argoproj_workflow_v1alpha1_parameter.IoArgoprojWorkflowV1alpha1Parameter
        PodGC = io_argoproj_workflow_v1alpha1_pod_gc.IoArgoprojWorkflowV1alpha1PodGC
        ResourceTemplate = io_argoproj_workflow_v1alpha1_resource_template.IoArgoprojWorkflowV1alpha1ResourceTemplate
        RetryStrategy = io_argoproj_workflow_v1alpha1_retry_strategy.IoArgoprojWorkflowV1alpha1RetryStrategy
        S3Artifact = io_argoproj_workflow_v1alpha1_s3_artifact.IoArgoprojWorkflowV1alpha1S3Artifact
        SuspendTemplate = io_argoproj_workflow_v1alpha1_suspend_template.IoArgoprojWorkflowV1alpha1SuspendTemplate
        Synchronization = io_argoproj_workflow_v1alpha1_synchronization.IoArgoprojWorkflowV1alpha1Synchronization
        Template = io_argoproj_workflow_v1alpha1_template.IoArgoprojWorkflowV1alpha1Template
        TemplateRef = io_argoproj_workflow_v1alpha1_template_ref.IoArgoprojWorkflowV1alpha1TemplateRef
        ValueFrom = io_argoproj_workflow_v1alpha1_value_from.IoArgoprojWorkflowV1alpha1ValueFrom
        Workflow = io_argoproj_workflow_v1alpha1_workflow.IoArgoprojWorkflowV1alpha1Workflow
        WorkflowSpec = io_argoproj_workflow_v1alpha1_workflow_spec.IoArgoprojWorkflowV1alpha1WorkflowSpec
        WorkflowTemplate = io_argoproj_workflow_v1alpha1_workflow_template.IoArgoprojWorkflowV1alpha1WorkflowTemplate
        ObjectMeta = object_meta.ObjectMeta
        ResourceRequirements = resource_requirements.ResourceRequirements

    return M


def _param(name: str, value: str | None = None) -> Any:
    M = _m()
    return M.Parameter(name=name) if value is None else M.Parameter(name=name, value=value)


def _inputs(names: list[str], settings: Settings, with_repo: bool = True) -> Any:
    M = _m()
    artifacts = []
    if with_repo:
        assert settings.repo_url is not None
        artifacts = [M.Artifact(name="repo", path=REPO_PATH,
                                git=M.GitArtifact(repo=settings.repo_url,
                                                  revision="{{inputs.parameters.revision}}"))]
    params = [_param(n) for n in names]
    if artifacts:
        return M.Inputs(parameters=params, artifacts=artifacts)
    return M.Inputs(parameters=params)


def _retry() -> Any:
    M = _m()
    return M.RetryStrategy(limit="3", retry_policy="Always", expression=RETRY_EXPRESSION,
                           backoff=M.Backoff(duration="30s", factor="2", max_duration="15m"))


def _toolkit(name: str, kind: str, params: list[str], args: list[str], settings: Settings, *,
             transient: bool, gpus: bool = False, env: dict[str, str] | None = None,
             outputs: Any = None) -> Any:
    """A container template running `llmgitops step <kind>` on a checkout of the repository."""
    M = _m()
    assert settings.image is not None
    container_args = ["step", kind, "--environment", settings.name,
                      "--revision", "{{inputs.parameters.revision}}", *args]
    fields: dict[str, Any] = {
        "image": settings.image, "command": ["llmgitops"], "args": container_args, "working_dir": REPO_PATH,
        "env": [M.EnvVar(name="LLMGITOPS_OUT", value=OUT_DIR)]
        + [M.EnvVar(name=k, value=v) for k, v in sorted((env or {}).items())],
    }
    if gpus:
        gpu = {"nvidia.com/gpu": "{{inputs.parameters.gpus}}"}
        fields["resources"] = M.ResourceRequirements(requests=gpu, limits=gpu)
    template: dict[str, Any] = {"name": name, "inputs": _inputs(["revision", *params], settings),
                                "container": M.Container(**fields)}
    if outputs is not None:
        template["outputs"] = outputs
    if transient:
        template["retry_strategy"] = _retry()
    return M.Template(**template)


def _resource(name: str, action: str, manifest: dict[str, Any], *, params: list[str] | None = None,
              success: str | None = None, failure: str | None = None, flags: list[str] | None = None,
              transient: bool = True) -> Any:
    M = _m()
    fields: dict[str, Any] = {"action": action, "manifest": json.dumps(manifest, sort_keys=True)}
    if action == "patch":
        fields["merge_strategy"] = "merge"
    if success:
        fields["success_condition"] = success
    if failure:
        fields["failure_condition"] = failure
    if flags:
        fields["flags"] = flags
    template: dict[str, Any] = {"name": name, "resource": M.ResourceTemplate(**fields)}
    if params:
        template["inputs"] = M.Inputs(parameters=[_param(p) for p in params])
    if transient:
        template["retry_strategy"] = _retry()
    return M.Template(**template)


def kserve_traffic_names(settings: Settings) -> list[int]:
    """Every traffic share a workflow sets: 0 (pinned to the stable revision), each canary weight, 100."""
    return sorted({0, *settings.steps, 100})


def workflow_template(settings: Settings) -> Any:
    M = _m()
    ns = settings.namespace
    name_param = "{{inputs.parameters.name}}"
    artifact = ["name", "version"]
    templates = [
        _toolkit(VALIDATE, VALIDATE, ["state"], ["--state", "{{inputs.parameters.state}}"], settings,
                 transient=False,
                 outputs=M.Outputs(parameters=[M.Parameter(name="revision",
                                                           value_from=M.ValueFrom(path=f"{OUT_DIR}/revision"))])),
        _toolkit(TRAIN, TRAIN, [*artifact, "gpus"], ["--kind", "Model", "--name", name_param,
                                                     "--version", "{{inputs.parameters.version}}"],
                 settings, transient=True, gpus=True),
        _toolkit(EVALUATE, EVALUATE, [*artifact, "shard", "shards"],
                 ["--kind", "EvalSuite", "--name", name_param, "--version", "{{inputs.parameters.version}}",
                  "--shard", "{{inputs.parameters.shard}}", "--shards", "{{inputs.parameters.shards}}"],
                 settings, transient=True,
                 outputs=M.Outputs(artifacts=[M.Artifact(
                     # unarchived, so eval-merge downloads every shard's report.json under the suite's prefix
                     name="report", path=f"{OUT_DIR}/reports", archive=M.ArchiveStrategy(_none={}),
                     s3=M.S3Artifact(key="llmgitops/{{workflow.name}}/shards/" + name_param
                                     + "/shard-{{inputs.parameters.shard}}"))])),
        _eval_merge(settings),
        _toolkit(REINDEX, REINDEX, [*artifact, "mode"],
                 ["--kind", "RagConfig", "--name", name_param, "--version", "{{inputs.parameters.version}}",
                  "--mode", "{{inputs.parameters.mode}}"], settings, transient=True),
        _toolkit(ANALYZE, ANALYZE, ["weight"], ["--weight", "{{inputs.parameters.weight}}"], settings,
                 transient=False, env={"PROMETHEUS_URL": settings.prometheus_url}),
        M.Template(name=APPROVE, suspend=M.SuspendTemplate(), outputs=M.Outputs(parameters=[
            M.Parameter(name="decision", enum=["approve", "reject"], description="approve or reject the rollout",
                        value_from=M.ValueFrom(supplied={})),
            M.Parameter(name="approver", description="who decided, as the Git host knows them",
                        value_from=M.ValueFrom(supplied={}))])),
        _toolkit("record-approval", APPROVE, ["decisions", "approvers"],
                 ["--decisions", "{{inputs.parameters.decisions}}", "--approvers", "{{inputs.parameters.approvers}}"],
                 settings, transient=False,
                 outputs=M.Outputs(parameters=[
                     M.Parameter(name="decision", global_name=APPROVAL_DECISION,
                                 value_from=M.ValueFrom(path=f"{OUT_DIR}/decision")),
                     M.Parameter(name="approvers", global_name=APPROVAL_APPROVERS,
                                 value_from=M.ValueFrom(path=f"{OUT_DIR}/approvers"))])),
    ]
    for weight in kserve_traffic_names(settings):
        patch = t.InferenceServiceTraffic(t.Meta(name=name_param, namespace=ns),
                                          t.TrafficSpec(t.TrafficPredictor(weight)))
        templates.append(_resource(f"kserve-traffic-{weight}", "patch", patch.to_dict(), params=["name"]))
    rollout = t.Meta(name=name_param, namespace=ns)
    templates.append(_resource("rollout-promote", "patch",
                               t.RolloutStatusPatch(rollout, {"pauseConditions": None}).to_dict(),
                               params=["name"], flags=["--subresource=status"]))
    templates.append(_resource("rollout-abort", "patch", t.RolloutStatusPatch(rollout, {"abort": True}).to_dict(),
                               params=["name"], flags=["--subresource=status"]))
    for index, _weight in enumerate(settings.steps):
        # the Rollout pauses after each setWeight: step 2i+1 is the pause after the i-th weight
        templates.append(_resource(
            f"rollout-wait-{index}", "get", t.RolloutRef(rollout).to_dict(), params=["name"],
            success=f"status.currentStepIndex == {2 * index + 1}", failure="status.phase == Degraded",
            transient=False))
    if settings.analysis_interval:
        # the canary takes traffic for one interval before each analysis, so rate windows see the new share
        templates.append(M.Template(name="analysis-wait",
                                    suspend=M.SuspendTemplate(duration=settings.analysis_interval)))
    templates.append(_resource("rollout-wait-healthy", "get", t.RolloutRef(rollout).to_dict(), params=["name"],
                               success="status.phase == Healthy", failure="status.phase == Degraded",
                               transient=False))
    meta = M.ObjectMeta(name=template_name(settings.name), namespace=settings.argo_namespace or ns,
                        labels={**PART_OF, LABEL_ENV: settings.name}, annotations={WAVE: "-2"})
    return M.WorkflowTemplate(api_version="argoproj.io/v1alpha1", kind="WorkflowTemplate", metadata=meta,
                              spec=M.WorkflowSpec(templates=templates,
                                                  **_service_account(settings)))


def _eval_merge(settings: Settings) -> Any:
    M = _m()
    template = _toolkit(EVAL_MERGE, EVAL_MERGE, ["name", "version", "shards"],
                        ["--kind", "EvalSuite", "--name", "{{inputs.parameters.name}}",
                         "--version", "{{inputs.parameters.version}}", "--shards", "{{inputs.parameters.shards}}",
                         "--reports", f"{OUT_DIR}/shards"], settings, transient=True,
                        outputs=M.Outputs(artifacts=[M.Artifact(
                            name="report", path=f"{OUT_DIR}/reports", archive=M.ArchiveStrategy(_none={}),
                            s3=M.S3Artifact(key="llmgitops/{{workflow.name}}/merged/{{inputs.parameters.name}}"))]))
    template.inputs.artifacts.append(M.Artifact(
        name="shards", path=f"{OUT_DIR}/shards",
        s3=M.S3Artifact(key="llmgitops/{{workflow.name}}/shards/{{inputs.parameters.name}}")))
    return template


def _service_account(settings: Settings) -> dict[str, Any]:
    return {"service_account_name": settings.service_account} if settings.service_account else {}


class _Dag:
    """Tasks of one DAG; ``tails[step id]`` are the tasks that complete a pipeline step."""

    def __init__(self, env: str) -> None:
        self.env = env
        self.tasks: list[Any] = []
        self.tails: dict[str, list[str]] = {}

    def add(self, name: str, template: str, params: dict[str, str], depends: list[str],
            items: list[dict[str, str]] | None = None, when: str | None = None) -> str:
        M = _m()
        fields: dict[str, Any] = {
            "name": name,
            "template_ref": M.TemplateRef(name=template_name(self.env), template=template),
        }
        if params:
            fields["arguments"] = M.Arguments(parameters=[_param(k, v) for k, v in params.items()])
        if depends:
            fields["depends"] = " && ".join(sorted(set(depends)))
        if items is not None:
            fields["with_items"] = items
        if when:
            fields["when"] = when
        self.tasks.append(M.DAGTask(**fields))
        return name

    def after(self, step: Step) -> list[str]:
        return [task for need in step.needs for task in self.tails.get(need, [])]


def _revision() -> str:
    return "{{tasks.validate.outputs.parameters.revision}}"


def _pipeline_dag(pipeline: Pipeline, settings: Settings, targets: Targets) -> _Dag:
    dag = _Dag(pipeline.environment)
    rev = _revision()
    weights = list(settings.steps)
    for step in pipeline.steps:
        deps = dag.after(step)
        a = step.artifact
        if step.kind == VALIDATE:
            dag.tails[step.id] = [dag.add(step.id, VALIDATE, {"revision": "{{workflow.parameters.ref}}",
                                                                "state": "{{workflow.parameters.state}}"}, deps)]
        elif step.kind == TRAIN and a is not None:
            dag.tails[step.id] = [dag.add(step.id, TRAIN, {"revision": rev, "name": a.name, "version": a.version,
                                                             "gpus": str(step.gpus)}, deps)]
        elif step.kind == EVALUATE and a is not None:
            params = {"revision": rev, "name": a.name, "version": a.version, "shards": str(step.shards)}
            if step.shards > 1:
                items = [{"shard": str(i)} for i in range(1, step.shards + 1)]
                dag.tails[step.id] = [dag.add(step.id, EVALUATE, {**params, "shard": "{{item.shard}}"}, deps,
                                              items=items)]
            else:
                dag.tails[step.id] = [dag.add(step.id, EVALUATE, {**params, "shard": "1"}, deps)]
        elif step.kind == EVAL_MERGE and a is not None:
            suite = pipeline.step(step.needs[0])
            dag.tails[step.id] = [dag.add(step.id, EVAL_MERGE, {"revision": rev, "name": a.name,
                                                                  "version": a.version,
                                                                  "shards": str(suite.shards)}, deps)]
        elif step.kind == REINDEX and a is not None:
            dag.tails[step.id] = [dag.add(step.id, REINDEX, {"revision": rev, "name": a.name, "version": a.version,
                                                               "mode": step.mode or "reembed"}, deps)]
        elif step.kind == DEPLOY_CANARY and step.weight is not None:
            index = weights.index(step.weight)
            tails = [dag.add(f"{step.id}-{m}", f"kserve-traffic-{step.weight}", {"name": m}, deps)
                     for m in targets.models]
            if targets.rollout:
                wait_deps = deps
                if index > 0:
                    wait_deps = [dag.add(f"{step.id}-app-promote", "rollout-promote", {"name": targets.rollout},
                                         deps)]
                tails.append(dag.add(f"{step.id}-app", f"rollout-wait-{index}", {"name": targets.rollout},
                                     wait_deps))
            dag.tails[step.id] = tails or deps
        elif step.kind == ANALYZE and step.weight is not None:
            if settings.analysis_interval:
                deps = [dag.add(f"wait-{step.weight}", "analysis-wait", {}, deps)]
            dag.tails[step.id] = [dag.add(step.id, ANALYZE, {"revision": rev, "weight": str(step.weight)}, deps)]
        elif step.kind == APPROVE:
            gates: list[str] = []
            for number in range(1, settings.min_approvals + 1):
                # one suspend per required approval: each records its own decision and approver
                gates.append(dag.add(f"approve-{number}", APPROVE, {}, gates[-1:] or deps))
            outputs = "{{tasks.%s.outputs.parameters.%s}}"
            dag.tails[step.id] = [dag.add("record-approval", "record-approval", {
                "revision": rev,
                "decisions": ",".join(outputs % (g, "decision") for g in gates),
                "approvers": ",".join(outputs % (g, "approver") for g in gates)}, gates[-1:])]
        elif step.kind == PROMOTE_FULL:
            tails = [dag.add(f"{step.id}-{m}", "kserve-traffic-100", {"name": m}, deps) for m in targets.models]
            if targets.rollout:
                promoted = dag.add(f"{step.id}-app-promote", "rollout-promote", {"name": targets.rollout}, deps)
                tails.append(dag.add(f"{step.id}-app", "rollout-wait-healthy", {"name": targets.rollout},
                                     [promoted]))
            if not tails:
                # nothing to shift: the run ends once the release has been checked and evaluated
                tails = deps
            dag.tails[step.id] = tails
    return dag


def _rollback_dag(env: str, targets: Targets) -> _Dag:
    dag = _Dag(env)
    failed = "{{workflow.status}} != Succeeded"
    for model in targets.models:
        dag.add(f"pin-{model}", "kserve-traffic-0", {"name": model}, [], when=failed)
    if targets.rollout:
        dag.add("abort-app", "rollout-abort", {"name": targets.rollout}, [], when=failed)
    return dag


def promotion_workflow(pipeline: Pipeline, settings: Settings, targets: Targets) -> Any:
    M = _m()
    templates = [M.Template(name="pipeline", dag=M.DAGTemplate(tasks=_pipeline_dag(pipeline, settings,
                                                                                   targets).tasks))]
    rollback = _rollback_dag(pipeline.environment, targets)
    spec: dict[str, Any] = {
        "entrypoint": "pipeline",
        "arguments": M.Arguments(parameters=[_param("ref", settings.target_revision),
                                             _param("state", pipeline.state)]),
        "synchronization": M.Synchronization(mutexes=[M.Mutex(name=f"llmgitops-{pipeline.environment}")]),
        "pod_gc": M.PodGC(strategy="OnPodSuccess"),
        **_service_account(settings),
    }
    if pipeline.automatic_rollback and rollback.tasks:
        templates.append(M.Template(name="rollback", dag=M.DAGTemplate(tasks=rollback.tasks)))
        spec["on_exit"] = "rollback"
    spec["templates"] = templates
    meta = M.ObjectMeta(
        name=workflow_name(pipeline.environment, pipeline.state),
        namespace=settings.argo_namespace or settings.namespace,
        labels={**PART_OF, LABEL_ENV: pipeline.environment, LABEL_STATE: pipeline.state[:12]},
        # never pruned: a finished run stays as the record of this state, and so is never created again
        annotations={WAVE: "1", SYNC_OPTIONS: "Prune=false"})
    return M.Workflow(api_version="argoproj.io/v1alpha1", kind="Workflow", metadata=meta,
                      spec=M.WorkflowSpec(**spec))


def arm_workflow(pipeline: Pipeline, settings: Settings, targets: Targets) -> Any | None:
    """Runs before Argo CD applies a changed predictor: it pins each InferenceService's traffic to the stable
    revision, so the new one starts at 0% and the promotion workflow moves it from there."""
    if not targets.models:
        return None
    M = _m()
    dag = _Dag(pipeline.environment)
    for model in targets.models:
        dag.add(f"pin-{model}", "kserve-traffic-0", {"name": model}, [])
    meta = M.ObjectMeta(
        name=workflow_name(pipeline.environment, pipeline.state) + "-arm",
        namespace=settings.argo_namespace or settings.namespace,
        labels={**PART_OF, LABEL_ENV: pipeline.environment, LABEL_STATE: pipeline.state[:12]},
        annotations={WAVE: "-1", SYNC_OPTIONS: "Prune=false"})
    spec = M.WorkflowSpec(entrypoint="arm", templates=[M.Template(name="arm", dag=M.DAGTemplate(tasks=dag.tasks))],
                          synchronization=M.Synchronization(
                              mutexes=[M.Mutex(name=f"llmgitops-{pipeline.environment}")]),
                          pod_gc=M.PodGC(strategy="OnPodSuccess"), **_service_account(settings))
    return M.Workflow(api_version="argoproj.io/v1alpha1", kind="Workflow", metadata=meta, spec=spec)
