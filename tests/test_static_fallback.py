"""Each view's display output carries a PNG and a text summary for front-ends without widgets."""

from __future__ import annotations

import base64

import numpy as np
import pandas as pd
import pytest

import errorscope as es
from errorscope.widgets import base

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def ev() -> es.Evaluation:
    df = es.datasets.load_adult()
    score = np.clip(0.2 + 0.5 * (df["education-num"] > 12), 0, 1)
    return es.Evaluation(df, "income", y_score=score)


@pytest.mark.parametrize("view", [es.ConfusionMatrix, es.SliceBrowser, es.GroupComparer])
def test_bundle_has_widget_png_and_summary(ev: es.Evaluation, view: type) -> None:
    options = {es.SliceBrowser: {"discover": False}, es.GroupComparer: {"groups": "sex"}}.get(view, {})
    widget = view(ev, **options)
    data, _metadata = widget._repr_mimebundle_()
    assert data["application/vnd.jupyter.widget-view+json"]["model_id"] == widget.model_id
    assert base64.b64decode(data["image/png"]).startswith(PNG_MAGIC)
    assert f"{ev.n_rows:,} rows" in data["text/plain"]


def test_summaries_say_what_the_view_shows(ev: es.Evaluation) -> None:
    cm = es.ConfusionMatrix(ev)
    wrong = cm.matrix.to_numpy().copy()
    np.fill_diagonal(wrong, 0)
    a, p = np.unravel_index(np.argmax(wrong), wrong.shape)
    assert f"actual {ev.class_names[a]}, predicted {ev.class_names[p]} ({wrong[a, p]:,} rows)" in cm.summary()
    sb = es.SliceBrowser(ev, discover=False)
    assert sb.table["description"].iloc[0] in sb.summary().splitlines()[1]


def test_fallback_can_be_turned_off(ev: es.Evaluation, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(base, "STATIC_FALLBACK", False)
    data, _ = es.ConfusionMatrix(ev)._repr_mimebundle_()
    assert "image/png" not in data


@pytest.fixture
def mathtext_ev() -> es.Evaluation:
    """Class labels and a category that matplotlib would read as (broken) mathtext."""
    return mathtext_evaluation()


def mathtext_evaluation() -> es.Evaluation:
    rng = np.random.default_rng(0)
    n = 400
    df = pd.DataFrame(
        {
            "kind": rng.choice(["$\\frac$", "plain", "50$ or $60"], n),
            "x": rng.normal(size=n),
            "label": rng.choice(["$x^$", "b"], n),
        }
    )
    pred = np.where(rng.random(n) < 0.7, df["label"], np.where(df["label"] == "b", "$x^$", "b"))
    return es.Evaluation(df, "label", y_pred=pred, sensitive="kind")


@pytest.mark.parametrize("view", [es.ConfusionMatrix, es.SliceBrowser, es.GroupComparer])
def test_fallback_never_reads_data_as_mathtext(mathtext_ev: es.Evaluation, view: type) -> None:
    widget = view(mathtext_ev, **({"discover": False} if view is es.SliceBrowser else {}))
    figure = widget.to_figure()
    data, _ = widget._repr_mimebundle_()
    assert base64.b64decode(data["image/png"]).startswith(PNG_MAGIC)
    shown = {t.get_text() for ax in figure.axes for t in [*ax.get_xticklabels(), *ax.get_yticklabels()]}
    assert any("$" in text for text in shown)  # the labels are drawn as they are, dollars included
