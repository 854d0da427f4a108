"""What serves on this machine: the local deployment state of an environment.

``.llmgitops/state/<env>.json`` records the stable release (the last good one), the candidate being
rolled out and its share of traffic, where each one's evaluation reports are kept, and a history of
every traffic change. It is written atomically, so a crash leaves the previous state.
"""

from __future__ import annotations

import datetime
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ...atomicfile import write_text
from ...pipeline.release import Entry, Release
from ...pipeline.workspace import local_dir

STATE_VERSION = 1


def now() -> str:
    return datetime.datetime.now(datetime.UTC).replace(microsecond=0).isoformat()


@dataclass
class Deployed:
    revision: str
    state: str
    artifacts: list[dict[str, str]]
    reports: dict[str, str] = field(default_factory=dict)  # EvalSuite name -> report path (JSON)
    collections: dict[str, str] = field(default_factory=dict)  # RagConfig alias -> collection it served
    since: str = ""

    @classmethod
    def of(cls, release: Release, revision: str) -> Deployed:
        return cls(revision, release.state, [e.to_dict() for e in release.entries], since=now())

    def versions(self) -> dict[str, str]:
        return {f"{a['kind']}/{a['name']}": a["version"] for a in self.artifacts}

    def release(self, environment: str) -> Release:
        entries = tuple(sorted(Entry(a["kind"], a["name"], a["version"], a["path"], a["blob"])
                               for a in self.artifacts))
        return Release(environment, entries, "")

    def to_dict(self) -> dict[str, Any]:
        return {"revision": self.revision, "state": self.state, "artifacts": self.artifacts,
                "reports": self.reports, "collections": self.collections, "since": self.since}

    @classmethod
    def from_dict(cls, data: Any) -> Deployed:
        if not isinstance(data, dict):
            raise ValueError("not a deployed release")
        return cls(str(data["revision"]), str(data["state"]), list(data.get("artifacts") or []),
                   dict(data.get("reports") or {}), dict(data.get("collections") or {}), str(data.get("since", "")))


@dataclass
class LocalState:
    environment: str
    stable: Deployed | None = None
    candidate: Deployed | None = None
    weight: int = 0  # the candidate's share of traffic, in percent
    history: list[dict[str, Any]] = field(default_factory=list)

    @property
    def traffic(self) -> dict[str, int]:
        """Which release state serves which share of traffic."""
        out: dict[str, int] = {}
        if self.candidate is not None and self.weight:
            out[self.candidate.state[:12]] = self.weight
        if self.stable is not None and self.weight < 100:
            out[self.stable.state[:12]] = out.get(self.stable.state[:12], 0) + 100 - self.weight
        return out

    def record(self, event: str, **details: Any) -> None:
        self.history.append({"at": now(), "event": event, **details})

    def to_dict(self) -> dict[str, Any]:
        return {"stateVersion": STATE_VERSION, "environment": self.environment,
                "stable": self.stable.to_dict() if self.stable else None,
                "candidate": self.candidate.to_dict() if self.candidate else None,
                "weight": self.weight, "traffic": self.traffic, "history": self.history}


def state_path(root: Path, env: str) -> Path:
    return local_dir(root, "state") / f"{env}.json"


def load(root: Path, env: str) -> LocalState:
    path = state_path(root, env)
    if not path.exists():
        return LocalState(env)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("stateVersion") != STATE_VERSION or data.get("environment") != env:
            raise ValueError("another state version or environment")
        return LocalState(env,
                          Deployed.from_dict(data["stable"]) if data.get("stable") else None,
                          Deployed.from_dict(data["candidate"]) if data.get("candidate") else None,
                          int(data.get("weight", 0)), list(data.get("history") or []))
    except (ValueError, KeyError, TypeError) as exc:
        from ...errors import LLMGitOpsError

        raise LLMGitOpsError(f"{path} is not a deployment state llmgitops can read: {exc}",
                             hint=f"move it aside to start {env} from scratch") from None


def save(root: Path, state: LocalState) -> None:
    path = state_path(root, state.environment)
    write_text(path, json.dumps(state.to_dict(), indent=2, sort_keys=True) + "\n")
