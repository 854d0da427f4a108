"""Where metric types and target kinds come from: this package's own modules, then plug-ins.

A plug-in is a module that, when imported, calls ``metrics.register_metric`` and/or
``targets.register_target``. Two ways in:
  * the modules in ``PLUGIN_MODULES`` (the retrieval family lives in ``llmgitops.rag.evaluation``),
  * any installed distribution's entry point in the group ``llmgitops.evaluation``.
Plug-ins load once, the first time a metric type or target kind is looked up.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import threading

PLUGIN_MODULES = ("llmgitops.rag.evaluation",)
ENTRY_POINT_GROUP = "llmgitops.evaluation"

_loaded = False
# the local pipeline evaluates suites on worker threads: a second thread must wait for the first
# to finish importing plug-ins, not see "loaded" while the registrations are still under way
_lock = threading.RLock()
problems: list[str] = []  # plug-ins that exist but failed to import, for error messages


def load_plugins() -> None:
    global _loaded
    if _loaded:
        return
    with _lock:
        if _loaded:
            return
        _import_all()
        _loaded = True


def _import_all() -> None:
    for name in PLUGIN_MODULES:
        try:
            importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name is None or not name.startswith(exc.name):
                problems.append(f"{name}: {exc}")
        except Exception as exc:  # a broken plug-in must not take the built-in metrics down with it
            problems.append(f"{name}: {type(exc).__name__}: {exc}")
    for entry in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
        try:
            entry.load()
        except Exception as exc:
            problems.append(f"{entry.name} ({entry.value}): {type(exc).__name__}: {exc}")
