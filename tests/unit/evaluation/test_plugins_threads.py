"""Plug-ins load once, and a thread that asks while another is importing them waits for the result."""

from __future__ import annotations

import sys
import threading
from pathlib import Path

import pytest

from llmgitops.evaluation import plugins, targets


def test_second_thread_waits_for_plugin_registration(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "slow_plugin_for_test.py").write_text(
        "import time\n"
        "from llmgitops.evaluation.targets import register_target\n"
        "time.sleep(0.5)\n"
        "register_target('SlowKindForTest', lambda manifest, ctx: None)\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(plugins, "PLUGIN_MODULES", ("slow_plugin_for_test",))
    monkeypatch.setattr(plugins, "_loaded", False)
    monkeypatch.setattr(targets, "_TARGETS", dict(targets._TARGETS))
    seen: list[bool] = []

    def ask() -> None:
        plugins.load_plugins()
        seen.append(targets.target_factory("SlowKindForTest") is not None)

    threads = [threading.Thread(target=ask) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    sys.modules.pop("slow_plugin_for_test", None)
    assert seen == [True, True]
