"""Group metrics from cached codes against Fairlearn's MetricFrame on the same data (numbers checked equal).

Run: python benchmarks/group_metrics.py [n_rows ...]   (default: 100000 1000000)
Targets: everything but the intervals <= 50 ms at 1M rows; 200 bootstrap resamples <= 2 s at 1M rows.
"""

from __future__ import annotations

import sys
import time

import numpy as np
import pandas as pd
from _synthetic import binary_evaluation
from fairlearn.metrics import MetricFrame, false_positive_rate, selection_rate
from selection_recompute import timed_ms
from sklearn.metrics import accuracy_score, precision_score, recall_score

from errorscope.fairness import count_groups, disparities, group_metrics, make_groups, score_distributions


def measure(n: int) -> str:
    ev = binary_evaluation(n)
    rng = np.random.default_rng(2)
    ev.data["sex"] = rng.choice(["F", "M"], n)
    ev.data["race"] = rng.choice(["a", "b", "c", "d", "e"], n, p=[0.6, 0.2, 0.1, 0.07, 0.03])
    ev._codes_cache.clear()
    groups = make_groups(ev, ["sex", "race"])  # codes cached once, like the widget
    mask = rng.random(n) < 0.5

    def everything_but_intervals() -> None:
        counted = count_groups(ev, groups, mask)  # as the widget does: count once, derive the rest
        group_metrics(ev, groups, mask, n_boot=0, counted=counted)
        disparities(ev, groups, mask, n_boot=0, counted=counted)
        score_distributions(ev, groups, mask, counted=counted)

    ours = timed_ms(everything_but_intervals, 11)
    t0 = time.perf_counter()
    group_metrics(ev, groups, mask, n_boot=200)
    boot_s = time.perf_counter() - t0
    y, p = (ev.true_codes == 1)[mask], (ev.pred_codes == 1)[mask]
    sensitive = ev.data.loc[mask, ["sex", "race"]].reset_index(drop=True)
    metrics = {"selection_rate": selection_rate, "accuracy": accuracy_score, "precision": precision_score,
               "recall": recall_score, "fpr": false_positive_rate}  # fmt: skip
    t0 = time.perf_counter()
    frame = MetricFrame(metrics=metrics, y_true=y, y_pred=p, sensitive_features=sensitive)
    fairlearn_ms = (time.perf_counter() - t0) * 1e3
    table = group_metrics(ev, groups, mask, n_boot=0).set_index("group")
    for key, row in frame.by_group.iterrows():
        mine = table.loc[f"sex={key[0]}, race={key[1]}"]
        assert all(abs(mine[m] - row[m]) < 1e-9 for m in metrics), key
    ours_metrics = timed_ms(lambda: group_metrics(ev, groups, mask, n_boot=0), 11)
    return (
        f"{n:>10,} {ours[0]:>14.1f} {ours_metrics[0]:>12.1f} {fairlearn_ms:>14.1f} "
        f"{fairlearn_ms / ours_metrics[0]:>7.0f}x {boot_s * 1e3:>12.0f}"
    )


if __name__ == "__main__":
    sizes = [int(a) for a in sys.argv[1:]] or [100_000, 1_000_000]
    pd.set_option("display.width", 120)
    print(
        f"{'rows':>10} {'all but CIs ms':>14} {'metrics ms':>12} {'MetricFrame ms':>14} {'ratio':>8} "
        f"{'200 boots ms':>12}"
    )
    for n in sizes:
        print(measure(n), flush=True)
