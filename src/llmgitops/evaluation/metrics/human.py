"""Human review as a metric: a reviewer's verdict on a record is 1 (pass) or 0 (fail).

A run writes a review sheet (``--human-sample N``); ``llmgitops eval review import FILE`` puts the verdicts
into the report. Until then the metric has no value: unmeasured, never a pass. Records nobody reviewed
are not applicable.
"""

from __future__ import annotations

from . import Metric, Sample, Score, register_metric


@register_metric("human")
class Human(Metric):
    reads_output = False

    async def score(self, sample: Sample) -> Score:
        return Score.not_applicable("awaiting human review")
