"""Each view's display output carries a PNG and a text summary for front-ends without widgets."""

from __future__ import annotations

import base64

import numpy as np
import pandas as pd
import pytest

import errorscope as es
from engines import pandas_rows
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
    from sklearn.metrics import accuracy_score

    text, _ = fallback(es.ModelOverview(ev))
    accuracy = accuracy_score(ev.data["income"], np.asarray(ev.class_names)[ev.pred_codes])
    assert text.startswith(f"Model overview (classification): {ev.n_rows:,} rows")
    assert f"accuracy {100 * accuracy:.1f}%" in text and "missing values (workclass)" in text


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


# -- a regression: every view's PNG and text say what it shows ------------------------------------------
@pytest.fixture(scope="module")
def wage_ev() -> es.Evaluation:
    """Wage with a seeded gradient-boosted regressor on one-hot features (a tree explainer for the force
    viewer)."""
    from sklearn.ensemble import GradientBoostingRegressor

    wage = es.datasets.load_wage().drop(columns=["logwage", "region"])
    X = pd.get_dummies(wage.drop(columns="wage"), dtype=float)
    model = GradientBoostingRegressor(n_estimators=30, max_depth=3, random_state=0).fit(X, wage["wage"])
    frame = X.assign(wage=wage["wage"].to_numpy(), race=wage["race"].astype(str).to_numpy())
    return es.Evaluation(frame, y_true="wage", model=model, features=list(X.columns), sensitive="race")


def fallback(widget: object) -> tuple[str, bytes]:
    bundle = widget._repr_mimebundle_()  # type: ignore[attr-defined]
    data = bundle[0] if isinstance(bundle, tuple) else bundle
    png = base64.b64decode(data["image/png"])
    assert png.startswith(PNG_MAGIC)
    return data["text/plain"], png


def test_regression_fallbacks_say_what_they_show(wage_ev: es.Evaluation, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from sklearn import metrics

    from errorscope.report import number

    ev = wage_ev
    y, p = ev.actual_values, ev.predicted_values
    residual = p - y
    ev.select("residual > 20")
    try:
        text, _ = fallback(es.ModelOverview(ev))
        assert f"MAE {number(metrics.mean_absolute_error(y, p))}" in text
        assert f"R² {number(metrics.r2_score(y, p))}" in text
        kept = residual > 20
        assert f"selection ({kept.sum():,} rows): MAE {number(np.abs(residual[kept]).mean())}" in text
    finally:
        ev.selection.clear()

    text, _ = fallback(es.ResidualPlot(ev, feature="age"))
    over = int((residual >= 0).sum())
    assert f"over-predicted (residual >= 0): {over:,} rows" in text
    assert f"under-predicted: {len(y) - over:,} rows" in text

    sb = es.SliceBrowser(ev, discover=False)
    text, _ = fallback(sb)
    assert "worst by mean absolute error" in text
    top = sb.table.iloc[0]
    mask = pandas_rows(ev.data[top["predicate"].column], top["predicate"])  # the slice's rows, by pandas
    mae = np.abs(residual[mask]).mean()
    assert f"{top['description']}: {mask.sum():,} rows, mean absolute error {mae:.3g}" in text

    gc = es.GroupComparer(ev, groups="race")
    text, _ = fallback(gc)
    by_group = pd.Series(np.abs(residual)).groupby(ev.data["race"].to_numpy()).mean()
    assert f"mae range: {by_group.max() - by_group.min():.3f}" in text

    tagger = es.ErrorTagger(ev, store=tmp_path / "tags.sqlite")
    tagger.tag([ev.ids[0], ev.ids[1]], "mislabeled")
    text, _ = fallback(tagger)
    assert "mislabeled: 2" in text

    fv = es.ForceViewer(ev, background=20, sample=20)
    fv.wait()
    fv.current = str(ev.ids[0])
    text, _ = fallback(fv)
    table = fv.table
    first = table.iloc[0]
    assert f"row {ev.ids[0]}: {first['feature']} {first['contribution']:+.3g}" in text
    assert table.attrs["base_value"] + table["contribution"].sum() == pytest.approx(p[0])
    for view in (sb, gc, tagger, fv):
        view.close()


def test_regression_dashboard_fallback_is_its_residual_plot(wage_ev: es.Evaluation, tmp_path) -> None:  # type: ignore[no-untyped-def]
    board = es.dashboard(wage_ev, store=tmp_path / "tags.sqlite")
    text, _ = fallback(board)
    assert text.startswith("Model overview (regression)") and "Residual plot: 3,000 of 3,000 rows" in text
    assert "Slice browser" in text and "Group comparer (race; regression)" in text
    board.close()
