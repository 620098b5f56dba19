"""ModelComparer on every engine: the agreement cells and the rows a click selects (pandas), every model's
metrics (scikit-learn), McNemar's exact test (statsmodels) and the paired t-test of a regression's errors
(scipy), under the crossfilter; the p-values withheld on rows chosen by the predictions; bad arguments."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from sklearn.metrics import (
    accuracy_score,
    f1_score,
    mean_absolute_error,
    mean_squared_error,
    precision_score,
    recall_score,
)
from statsmodels.stats.contingency_tables import mcnemar

import errorscope as es

POSITIVE = ">50K"


@pytest.fixture
def three(on_engine, adult_two_models):  # type: ignore[no-untyped-def]
    frame = adult_two_models.assign(p_coin=np.random.default_rng(0).random(len(adult_two_models)))
    return on_engine(
        "adult3", frame, y_true="income", sensitive="sex",
        y_score={"baseline": "p_baseline", "candidate": "p_candidate", "coin": "p_coin"},
    ), frame  # fmt: skip


def labels(frame: pd.DataFrame, model: str) -> np.ndarray:
    return np.where(frame[f"p_{model}"] >= 0.5, POSITIVE, "<=50K")


def test_cells_metrics_and_mcnemar_match_the_oracles(three):  # type: ignore[no-untyped-def]
    ev, frame = three
    group = es.GroupComparer(ev, groups="sex")  # its click filters the comparer
    mc = es.ModelComparer(ev, n_boot=400)
    try:
        for rows in (frame, frame[frame["sex"] == "Female"]):
            if rows is not frame:
                group.select_groups([group.table["group"].tolist().index("Female")])
            y = rows["income"].to_numpy()
            a, b = labels(rows, "baseline"), labels(rows, "candidate")
            counts = dict(zip(mc.table["key"], mc.table["count"], strict=True))
            assert counts == {
                "both_right": int(((a == y) & (b == y)).sum()), "only_a_right": int(((a == y) & (b != y)).sum()),
                "only_b_right": int(((a != y) & (b == y)).sum()), "both_wrong": int(((a != y) & (b != y)).sum()),
            }  # fmt: skip
            table = mc.metrics_table.set_index(["model", "metric"])
            for model in ("baseline", "candidate", "coin"):
                p = labels(rows, model)
                oracle = {
                    "accuracy": accuracy_score(y, p), "precision": precision_score(y, p, pos_label=POSITIVE),
                    "recall": recall_score(y, p, pos_label=POSITIVE), "f1": f1_score(y, p, pos_label=POSITIVE),
                    "fpr": float(((p == POSITIVE) & (y != POSITIVE)).sum() / (y != POSITIVE).sum()),
                }  # fmt: skip
                for metric, value in oracle.items():
                    assert table.loc[(model, metric), "value"] == pytest.approx(value, abs=1e-12), (
                        model,
                        metric,
                    )
                if model == "baseline":
                    assert np.isnan(table.loc[(model, "accuracy"), "diff"])
                    continue
                right_a, right_m = a == y, p == y
                mcn = mcnemar(
                    pd.crosstab(right_a, right_m).reindex(
                        index=[True, False], columns=[True, False], fill_value=0
                    ),
                    exact=True,
                )
                assert table.loc[(model, "accuracy"), "p_mcnemar"] == pytest.approx(mcn.pvalue, rel=1e-9)
                diff = accuracy_score(y, p) - accuracy_score(y, a)
                lo, hi = table.loc[(model, "accuracy"), ["diff_lo", "diff_hi"]]
                assert (
                    table.loc[(model, "accuracy"), "diff"] == pytest.approx(diff, abs=1e-12)
                    and lo < diff < hi
                )
        assert mc.note == ""  # a group of a column, not of the predictions: the tests apply
    finally:
        group.close()
        mc.close()


def test_a_click_selects_the_cells_rows_and_p_values_are_withheld_on_rows_chosen_by_predictions(three):  # type: ignore[no-untyped-def]
    ev, frame = three
    mc = es.ModelComparer(ev, a="candidate", b="baseline", n_boot=400)
    matrix = es.ConfusionMatrix(ev)
    try:
        y, a, b = frame["income"].to_numpy(), labels(frame, "candidate"), labels(frame, "baseline")
        mc.select_cells(["only_a_right"])  # where the baseline fails and the candidate did not
        assert ev.engine.n_kept(ev.selection.filter()) == int(((a == y) & (b != y)).sum())
        assert mc.table.query("selected")["key"].tolist() == ["only_a_right"]
        mc.select_cells(["only_a_right", "only_b_right"])  # the discordant rows, OR-ed
        assert ev.engine.n_kept(ev.selection.filter()) == int(((a == y) != (b == y)).sum())
        mc.clear()
        matrix.select_cells(cells=[(1, 0)])  # actual >50K, predicted <=50K: chosen by the predictions
        assert mc.note.startswith("No p-values") and mc.metrics_table["p_mcnemar"].isna().all()
        assert mc.metrics_table["diff"].notna().any()
        mc.compare("coin", "candidate")
        assert (mc.model_a, mc.model_b) == ("coin", "candidate")
        assert mc.metrics_table["model"].iloc[0] == "coin"
    finally:
        mc.close()
        matrix.close()


def test_multiclass_predictions_against_each_other(on_engine, letter_test, letter_model):  # type: ignore[no-untyped-def]
    from sklearn.naive_bayes import GaussianNB

    X = letter_test.drop(columns="letter")
    bayes = GaussianNB().fit(X, letter_test["letter"])
    frame = letter_test.assign(tree=letter_model.predict(X), bayes=bayes.predict(X))
    ev = on_engine("letter2", frame, y_true="letter", y_pred={"tree": "tree", "bayes": "bayes"})
    mc = es.ModelComparer(ev, n_boot=200)
    try:
        assert mc.task == "multiclass"
        table = mc.prediction_table
        expected = pd.crosstab(frame["tree"], frame["bayes"]).stack()
        got = table.set_index(["a_predicted", "b_predicted"])["count"]
        assert got[got > 0].sort_index().to_dict() == expected[expected > 0].sort_index().to_dict()
        macro = mc.metrics_table.set_index(["model", "metric"]).loc[("bayes", "macro_f1"), "value"]
        assert macro == pytest.approx(f1_score(frame["letter"], frame["bayes"], average="macro"), abs=1e-12)
        mc.select_predictions([(0, 1)])  # tree said the first class, bayes the second
        first, second = ev.classes[0], ev.classes[1]
        assert ev.engine.n_kept(ev.selection.filter()) == int(
            ((frame["tree"] == first) & (frame["bayes"] == second)).sum()
        )
        assert mc.selected_pred == [[0, 1]]
    finally:
        mc.close()


def test_a_regressions_paired_errors(on_engine, wage_two_models):  # type: ignore[no-untyped-def]
    frame = wage_two_models
    ev = on_engine(
        "wage2c", frame, y_true="wage", y_pred={"gbm": "pred", "linear": "pred_linear"}, sensitive="race"
    )
    mc = es.ModelComparer(ev)
    try:
        y = frame["wage"].to_numpy()
        ea, eb = np.abs(frame["pred"].to_numpy() - y), np.abs(frame["pred_linear"].to_numpy() - y)
        counts = dict(zip(mc.table["key"], mc.table["count"], strict=True))
        assert counts == {
            "a_better": int((ea < eb).sum()),
            "tie": int((ea == eb).sum()),
            "b_better": int((eb < ea).sum()),
        }
        table = mc.metrics_table.set_index(["model", "metric"])
        assert table.loc[("linear", "mae"), "value"] == pytest.approx(
            mean_absolute_error(y, frame["pred_linear"]), rel=1e-12
        )
        assert table.loc[("gbm", "mse"), "value"] == pytest.approx(
            mean_squared_error(y, frame["pred"]), rel=1e-12
        )
        test = stats.ttest_rel(eb, ea)
        assert table.loc[("linear", "mae"), "p_value"] == pytest.approx(test.pvalue, rel=1e-9)
        lo, hi = stats.t.interval(0.95, len(y) - 1, loc=np.mean(eb - ea), scale=stats.sem(eb - ea))
        assert table.loc[("linear", "mae"), ["diff_lo", "diff_hi"]].tolist() == pytest.approx(
            [lo, hi], rel=1e-9
        )
        mc.select_cells(["b_better"])
        assert ev.engine.n_kept(ev.selection.filter()) == int((eb < ea).sum())
    finally:
        mc.close()


def test_bad_arguments_are_clear_errors(adult_two_models):  # type: ignore[no-untyped-def]
    one = es.Evaluation(adult_two_models, "income", y_score="p_baseline")
    with pytest.raises(ValueError, match=r"compares two or more models, and this Evaluation has one"):
        es.ModelComparer(one)
    two = es.Evaluation(adult_two_models, "income", y_score={"a": "p_baseline", "b": "p_candidate"})
    with pytest.raises(ValueError, match=r"b='c' is not a model of this Evaluation"):
        es.ModelComparer(two, b="c")
    with pytest.raises(ValueError, match=r"a and b are both 'a'"):
        es.ModelComparer(two, a="a", b="a")
    mc = es.ModelComparer(two, n_boot=200)
    with pytest.raises(ValueError, match=r"not agreement cells"):
        mc.select_cells(["a_better"])
    mc.close()


def test_the_force_viewer_explains_both_models_of_a_row(adult_test, adult_baseline, adult_model):  # type: ignore[no-untyped-def]
    rows = adult_test.head(600)
    ev = es.Evaluation(rows, "income", models={"baseline": adult_baseline, "candidate": adult_model})
    viewer = es.ForceViewer(ev, output="probability", sample=10)
    try:
        assert viewer.compare_model == "candidate" and viewer.compare_models == ["baseline", "candidate"]
        viewer.explain_class = POSITIVE
        row_id = str(rows.index[3])
        viewer.explain_row(row_id)
        mine, other = viewer.table, viewer.compare_table
        X = rows.drop(columns="income").iloc[[3]]
        for frame, model in ((mine, adult_baseline), (other, adult_model)):  # base + contributions = P(>50K)
            total = frame.attrs["base_value"] + frame["contribution"].sum()
            assert total == pytest.approx(model.predict_proba(X)[0, 1], abs=1e-6)
            assert frame.attrs["output"] == pytest.approx(total, abs=1e-9)
        assert viewer.compare_force["model"] == "candidate" and viewer.compare_force["id"] == row_id
        ev.active_model = "candidate"  # the viewer explains the active model, and compares with the other
        assert viewer.compare_model == "baseline"
        viewer.explain_row(row_id)
        assert viewer.table["contribution"].sum() == pytest.approx(other["contribution"].sum(), abs=1e-9)
    finally:
        viewer.close()


def table_cells(html: str) -> list[list[list[str]]]:
    """Each table of ``html`` as rows of cell texts (the standard library's parser)."""
    from html.parser import HTMLParser

    tables: list[list[list[str]]] = []

    class Cells(HTMLParser):
        def handle_starttag(self, tag, attrs):  # type: ignore[no-untyped-def]
            if tag == "table":
                tables.append([])
            elif tag == "tr":
                tables[-1].append([])
            elif tag in ("td", "th") and tables and tables[-1]:
                tables[-1][-1].append("")

        def handle_data(self, data):  # type: ignore[no-untyped-def]
            if tables and tables[-1] and tables[-1][-1]:
                tables[-1][-1][-1] += data

    Cells().feed(html)
    return tables


def test_the_report_compares_the_models(adult_two_models, tmp_path):  # type: ignore[no-untyped-def]
    frame = adult_two_models
    ev = es.Evaluation(
        frame, "income", y_score={"base<b>": "p_baseline", "candidate": "p_candidate"}, sensitive="sex"
    )
    html = ev.report(tmp_path / "report.html").read_text(encoding="utf-8")
    section = html[html.index("<h2>Model comparison</h2>") : html.index("<h2>Active selection</h2>")]
    assert "base<b>" not in section and "base&lt;b&gt;" in section  # model names are escaped
    assert "Slices where candidate is worse than base&lt;b&gt;" in section
    agreement, metrics = table_cells(section)[:2]
    y, a, b = frame["income"], labels(frame, "baseline"), labels(frame, "candidate")
    assert agreement[1] == [
        "candidate",
        *(
            f"{int(n):,}"
            for n in (
                ((a == y) & (b == y)).sum(),
                ((a == y) & (b != y)).sum(),
                ((a != y) & (b == y)).sum(),
                ((a != y) & (b != y)).sum(),
            )
        ),
    ]
    accuracy = next(row for row in metrics if row[0] == "accuracy")
    diff = accuracy_score(y, b) - accuracy_score(y, a)
    assert accuracy[3].startswith(f"{diff:+.3f}".replace("-", "\u2212"))
    assert accuracy[4] == ("better" if diff > 0 else "worse")


def test_a_discovered_slice_is_post_hoc_for_the_tests(adult_two_models):  # type: ignore[no-untyped-def]
    ev = es.Evaluation(
        adult_two_models, "income", y_score={"baseline": "p_baseline", "candidate": "p_candidate"}
    )
    browser = es.SliceBrowser(ev)
    mc = es.ModelComparer(ev, n_boot=200)
    try:
        browser.discover(block=True)
        assert len(browser.discovered_slices)
        browser.select_discovered(0)  # found by searching the baseline's errors: tests on it are post hoc
        assert ev.selection.clause(browser.source).searched
        assert "found by searching the errors" in mc.note and mc.metrics_table["p_mcnemar"].isna().all()
        browser.select_slice(
            int(browser.table.query("role == 'feature'")["key"].iloc[0])
        )  # listed, not searched
        assert not ev.selection.clause(browser.source).searched
        assert mc.note == "" and mc.metrics_table["p_mcnemar"].notna().any()
    finally:
        mc.close()
        browser.close()
