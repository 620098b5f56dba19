"""The model summary against the estimators' own attributes: scikit-learn models fitted here (and the Adult
pipeline of conftest), and small fakes with the attributes LightGBM, XGBoost, Keras and torch models have
(those libraries are not installed in the test environment)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.datasets import load_iris
from sklearn.ensemble import (
    GradientBoostingClassifier,
    HistGradientBoostingClassifier,
    RandomForestClassifier,
)
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from sklearn.svm import SVC
from sklearn.tree import DecisionTreeClassifier

from errorscope.model_summary import MAX_VALUE_CHARS, ModelSummary, model_summary, render


@pytest.fixture(scope="module")
def iris() -> tuple[np.ndarray, np.ndarray]:
    return load_iris(return_X_y=True)


def measures(summary: ModelSummary, step: str) -> dict[str, object]:
    rows = summary.size[summary.size["step"] == step]
    assert rows["measure"].is_unique
    return dict(zip(rows["measure"], rows["value"], strict=True))


def changed(summary: ModelSummary, step: str) -> dict[str, bool]:
    rows = summary.params[summary.params["step"] == step]
    return dict(zip(rows["parameter"], rows["changed"], strict=True))


def test_adult_pipeline_steps_and_gradient_boosting_size(adult_model) -> None:
    summary = model_summary(adult_model)
    boosting = adult_model.steps[-1][1]
    assert summary.estimator == "Pipeline(ColumnTransformer → HistGradientBoostingClassifier)"
    assert summary.library == "sklearn"
    top = summary.steps[~summary.steps["step"].str.contains("/")]
    assert top["name"].tolist() == [name for name, _ in adult_model.steps]
    assert top["estimator"].tolist() == [type(est).__name__ for _, est in adult_model.steps]
    nested = summary.steps[summary.steps["step"].str.startswith("columntransformer/")]
    assert nested["name"].tolist() == [name for name, _, _ in adult_model.steps[0][1].transformers_]
    assert (
        nested.set_index("name").loc["remainder", "estimator"] == "passthrough"
    )  # as given, not its stand-in

    size = measures(summary, "histgradientboostingclassifier")
    predictors = [p for iteration in boosting._predictors for p in iteration]
    assert size["trees"] == boosting.n_iter_ * boosting.n_trees_per_iteration_
    assert size["leaves"] == sum(int(p.nodes["is_leaf"].sum()) for p in predictors)
    assert size["leaves"] == sum(p.get_n_leaf_nodes() for p in predictors)
    assert size["max_depth"] == max(p.get_max_depth() for p in predictors)
    assert size["iterations"] == boosting.n_iter_
    assert size["n_features_in_"] == boosting.n_features_in_
    assert size["classes"] == len(boosting.classes_)
    # early_stopping="auto" is on above 10,000 rows: Adult's training split has 32,561
    assert boosting.early_stopping == "auto" and size["early stopping"] == "on"
    assert measures(summary, "columntransformer")["n_features_in_"] == adult_model.n_features_in_

    params = changed(summary, "histgradientboostingclassifier")
    assert {p for p, c in params.items() if c} == {"max_iter", "random_state"}  # as conftest sets them
    assert set(params) == set(boosting.get_params(deep=False))
    value = summary.params.set_index(["step", "parameter"]).loc[
        ("histgradientboostingclassifier", "loss"), "value"
    ]
    assert value == "'log_loss'"


def test_early_stopping_that_stopped(adult_train: pd.DataFrame) -> None:
    numeric = adult_train.select_dtypes("number").iloc[:3000]
    model = HistGradientBoostingClassifier(
        max_iter=300, early_stopping=True, n_iter_no_change=2, random_state=0
    )
    model.fit(numeric, adult_train["income"].iloc[:3000])
    assert model.n_iter_ < 300  # the oracle: it did stop early
    size = measures(model_summary(model), "histgradientboostingclassifier")
    assert size["iterations"] == model.n_iter_ and size["early stopping"] == "on"
    assert size["trees"] == model.n_iter_ * model.n_trees_per_iteration_
    off = HistGradientBoostingClassifier(max_iter=5, early_stopping=False).fit(
        numeric, adult_train["income"][:3000]
    )
    assert measures(model_summary(off), "histgradientboostingclassifier")["early stopping"] == "off"


def test_random_forest_and_tree(iris: tuple[np.ndarray, np.ndarray]) -> None:
    X, y = iris
    forest = RandomForestClassifier(n_estimators=7, max_depth=4, random_state=0).fit(X, y)
    size = measures(model_summary(forest), "randomforestclassifier")
    assert size["trees"] == 7 == len(forest.estimators_)
    assert size["leaves"] == sum(e.tree_.n_leaves for e in forest.estimators_)
    assert size["leaves"] == sum(e.get_n_leaves() for e in forest.estimators_)
    assert size["nodes"] == sum(e.tree_.node_count for e in forest.estimators_)
    assert size["max_depth"] == max(e.get_depth() for e in forest.estimators_)
    assert size["classes"] == 3 and size["n_features_in_"] == 4
    assert "iterations" not in size and "early stopping" not in size

    tree = DecisionTreeClassifier(random_state=0).fit(X, y)
    size = measures(model_summary(tree), "decisiontreeclassifier")
    assert (size["trees"], size["leaves"], size["max_depth"]) == (1, tree.get_n_leaves(), tree.get_depth())


def test_gradient_boosting_early_stopping(iris: tuple[np.ndarray, np.ndarray]) -> None:
    X, y = iris
    model = GradientBoostingClassifier(n_estimators=200, n_iter_no_change=2, random_state=0).fit(X, y)
    size = measures(model_summary(model), "gradientboostingclassifier")
    assert size["trees"] == model.estimators_.size == model.n_estimators_ * 3  # one tree per class
    assert size["leaves"] == sum(e.get_n_leaves() for e in model.estimators_.ravel())
    assert size["iterations"] == model.n_estimators_ < 200 and size["early stopping"] == "on"
    plain = GradientBoostingClassifier(n_estimators=3).fit(X, y)
    assert measures(model_summary(plain), "gradientboostingclassifier")["early stopping"] == "off"


def test_logistic_regression_coefficients_and_changed_params(iris: tuple[np.ndarray, np.ndarray]) -> None:
    X, y = iris
    pipeline = make_pipeline(StandardScaler(), LogisticRegression(max_iter=37))
    summary = model_summary(pipeline.fit(X, y))
    model = pipeline[-1]
    assert summary.estimator == "Pipeline(StandardScaler → LogisticRegression)"
    assert summary.steps["name"].tolist() == [name for name, _ in pipeline.steps]
    size = measures(summary, "logisticregression")
    assert size["coefficients"] == model.coef_.size + model.intercept_.size == 4 * 3 + 3
    assert size["nonzero coefficients"] == np.count_nonzero(model.coef_)
    assert size["iterations"] == model.n_iter_.max()
    flags = changed(summary, "logisticregression")
    assert flags["max_iter"] and not any(c for p, c in flags.items() if p != "max_iter")
    assert set(flags) == set(model.get_params(deep=False))
    assert not any(changed(summary, "standardscaler").values())
    assert summary.params["changed"].dtype == bool

    no_intercept = LogisticRegression(fit_intercept=False).fit(X, y)
    assert (
        measures(model_summary(no_intercept), "logisticregression")["coefficients"] == no_intercept.coef_.size
    )


def test_svm_and_mlp(iris: tuple[np.ndarray, np.ndarray]) -> None:
    X, y = iris
    svc = SVC().fit(X, y)
    size = measures(model_summary(svc), "svc")
    assert size["support vectors"] == svc.support_vectors_.shape[0] == svc.n_support_.sum()
    assert "coefficients" not in size  # an RBF kernel has no coef_
    mlp = MLPClassifier(hidden_layer_sizes=(5,), max_iter=20, random_state=0)
    with pytest.warns(UserWarning):  # ConvergenceWarning after 20 iterations
        mlp.fit(X, y)
    size = measures(model_summary(mlp), "mlpclassifier")
    assert size["parameters"] == (4 * 5 + 5) + (5 * 3 + 3)  # weights and biases of 4 -> 5 -> 3
    assert size["layers"] == 3 and size["iterations"] == mlp.n_iter_ == 20
    assert size["early stopping"] == "off"


def test_nested_column_transformer() -> None:
    frame = pd.DataFrame(
        {"a": [1.0, np.nan, 3.0, 4.0, 5.0, 6.0], "b": [2.0, 1.0, 0.0, 1.0, 2.0, 3.0],
         "c": ["x", "y", "x", "z", "y", "x"]}
    )  # fmt: skip
    numeric = Pipeline([("imputer", SimpleImputer()), ("scale", StandardScaler())])
    preprocess = ColumnTransformer([("num", numeric, ["a", "b"]), ("cat", OneHotEncoder(), ["c"])])
    model = Pipeline([("preprocess", preprocess), ("model", LogisticRegression(C=0.5))])
    summary = model_summary(model.fit(frame, [0, 1, 0, 1, 0, 1]))
    assert summary.steps["step"].tolist() == [
        "preprocess", "preprocess/num", "preprocess/num/imputer", "preprocess/num/scale", "preprocess/cat", "model",
    ]  # fmt: skip
    steps = summary.steps.set_index("step")
    assert steps.loc["preprocess/num", "estimator"] == "Pipeline"
    assert steps.loc["preprocess/num", "columns"] == "['a', 'b']"
    assert steps.loc["preprocess", "columns"] == "" and steps.loc["model", "columns"] == ""
    # the fitted transformers (transformers_), not the unfitted ones given to the ColumnTransformer
    fitted = preprocess.named_transformers_["num"].named_steps["imputer"]
    assert measures(summary, "preprocess/num/imputer")["n_features_in_"] == fitted.n_features_in_ == 2
    assert "transformers" not in changed(summary, "preprocess")
    assert "steps" not in changed(summary, "preprocess/num")
    assert not any(changed(summary, "preprocess/num/imputer").values())  # missing_values=nan is the default
    assert changed(summary, "model")["C"]
    assert measures(summary, "model")["coefficients"] == model[-1].coef_.size + 1  # 2 numeric + 3 one-hot


def test_unfitted_and_unknown() -> None:
    summary = model_summary(make_pipeline(StandardScaler(), LogisticRegression()))
    assert summary.size.values.tolist() == [
        ["standardscaler", "fitted", "no"],
        ["logisticregression", "fitted", "no"],
    ]
    assert len(summary.params) == len(StandardScaler().get_params()) + len(LogisticRegression().get_params())

    class Custom:
        def predict(self, X: object) -> object:
            return X

    custom = model_summary(Custom())
    assert custom.estimator == "Custom"
    assert custom.steps.values.tolist() == [["custom", "custom", "Custom", ""]]
    assert custom.params.empty and custom.size.empty
    assert list(custom.params.columns) == ["step", "parameter", "value", "changed"]
    assert list(custom.size.columns) == ["step", "measure", "value"]
    with pytest.raises(ValueError, match="pass model= to Evaluation"):
        model_summary(None)


def test_library_of_subclass_and_pipeline(iris: tuple[np.ndarray, np.ndarray]) -> None:
    class MyModel(LogisticRegression):  # defined here, still scikit-learn's
        pass

    assert model_summary(MyModel()).library == "sklearn"
    fake = FakeLGBMClassifier(FakeBooster([3, 4]))
    summary = model_summary(make_pipeline(StandardScaler(), fake))
    assert summary.library == "lightgbm"  # the final step's: the model that predicts
    assert summary.estimator == "Pipeline(StandardScaler → FakeLGBMClassifier)"


# fakes with the attributes of the libraries that are not installed ------------------------------------


class FakeBooster:
    """What lightgbm.Booster offers: num_trees() and dump_model()'s tree_info."""

    def __init__(self, leaves: list[int]) -> None:
        self.leaves = leaves

    def num_trees(self) -> int:
        return len(self.leaves)

    def dump_model(self, num_iteration: int | None = None) -> dict:
        return {"tree_info": [{"tree_index": i, "num_leaves": n} for i, n in enumerate(self.leaves)]}


class FakeLGBMClassifier:
    """What lightgbm.LGBMClassifier offers once fitted (sklearn API, booster_, best_iteration_)."""

    def __init__(
        self, booster: FakeBooster | None = None, n_estimators: int = 100, num_leaves: int = 31
    ) -> None:
        self.booster = booster
        self.n_estimators = n_estimators
        self.num_leaves = num_leaves

    def get_params(self, deep: bool = True) -> dict:
        return {"booster": self.booster, "n_estimators": self.n_estimators, "num_leaves": self.num_leaves}

    def __sklearn_is_fitted__(self) -> bool:
        return self.booster is not None

    @property
    def booster_(self) -> FakeBooster:
        if self.booster is None:
            raise RuntimeError("not fitted")  # LGBMNotFittedError
        return self.booster

    n_features_in_ = 4
    classes_ = np.array([0, 1])
    best_iteration_ = 2


FakeLGBMClassifier.__module__ = "lightgbm.sklearn"


class FakeXGBBooster:
    def __init__(self, dump: list[str]) -> None:
        self.dump = dump

    def get_dump(self) -> list[str]:
        return self.dump


class FakeXGBClassifier:
    """What xgboost.XGBClassifier offers: get_booster().get_dump(), one text per tree."""

    def __init__(self, dump: list[str]) -> None:
        self.booster = FakeXGBBooster(dump)

    def get_booster(self) -> FakeXGBBooster:
        return self.booster

    n_features_in_ = 2


FakeXGBClassifier.__module__ = "xgboost.sklearn"


class FakeWeight:
    def __init__(self, shape: tuple[int, ...]) -> None:
        self.shape = shape


class FakeKerasModel:
    """What a built keras.Model offers: count_params(), trainable_weights, layers."""

    def __init__(self, trainable: list[tuple[int, ...]], frozen: list[tuple[int, ...]]) -> None:
        self.trainable_weights = [FakeWeight(s) for s in trainable]
        self.weights = self.trainable_weights + [FakeWeight(s) for s in frozen]
        self.layers = ["dense", "batchnorm", "dense_1"]

    def count_params(self) -> int:
        return sum(int(np.prod(w.shape)) for w in self.weights)


FakeKerasModel.__module__ = "keras.src.models.sequential"


class FakeParameter:
    def __init__(self, shape: tuple[int, ...], requires_grad: bool = True) -> None:
        self.data = np.zeros(shape)
        self.requires_grad = requires_grad

    def numel(self) -> int:
        return self.data.size


class FakeTorchBase:
    """What torch.nn.Module offers: parameters() and named_modules()."""

    def __init__(self, parameters: list[FakeParameter]) -> None:
        self._parameters = parameters

    def parameters(self) -> list[FakeParameter]:
        return list(self._parameters)

    def named_modules(self) -> list:
        return [("", self)]


FakeTorchBase.__module__ = "torch.nn.modules.module"


class Net(FakeTorchBase):  # a user's module, defined in a notebook
    pass


def test_lightgbm_like() -> None:
    summary = model_summary(FakeLGBMClassifier(FakeBooster([5, 7, 31])))
    assert summary.library == "lightgbm"
    assert measures(summary, "fakelgbmclassifier") == {
        "trees": 3, "leaves": 43, "best iteration": 2, "n_features_in_": 4, "classes": 2,
    }  # fmt: skip
    assert model_summary(FakeLGBMClassifier()).size.values.tolist() == [
        ["fakelgbmclassifier", "fitted", "no"]
    ]
    assert model_summary(FakeBooster([2, 2])).size["value"].tolist() == [2, 4]  # a bare Booster


def test_xgboost_like() -> None:
    tree = "0:[f0<0.5] yes=1,no=2,missing=1\n\t1:leaf=0.1\n\t2:[f1<2] yes=3,no=4\n\t\t3:leaf=-0.2\n\t\t4:leaf=0.3\n"
    stump = "0:leaf=0.05\n"
    summary = model_summary(FakeXGBClassifier([tree, tree, stump]))
    assert summary.library == "xgboost"
    assert measures(summary, "fakexgbclassifier") == {"trees": 3, "leaves": 3 + 3 + 1, "n_features_in_": 2}


def test_keras_like() -> None:
    model = FakeKerasModel(trainable=[(4, 8), (8,), (8, 1), (1,)], frozen=[(8,), (8,)])
    summary = model_summary(model)
    assert summary.library == "keras"
    size = measures(summary, "fakekerasmodel")
    assert size == {"parameters": 32 + 8 + 8 + 1 + 16, "trainable parameters": 32 + 8 + 8 + 1, "layers": 3}
    assert summary.params.empty  # Keras models have no get_params


def test_torch_like() -> None:
    net = Net([FakeParameter((10, 4)), FakeParameter((10,)), FakeParameter((3, 10), requires_grad=False)])
    summary = model_summary(net)
    assert summary.library == "torch" and summary.estimator == "Net"
    assert measures(summary, "net") == {"parameters": 40 + 10 + 30, "trainable parameters": 50}


def test_render() -> None:
    assert render("auto") == "'auto'" and render(None) == "None" and render(np.float64(0.5)) == "0.5"
    long = render(list(range(100)))
    assert len(long) == MAX_VALUE_CHARS and long.startswith("[0, 1, 2, ") and long.endswith("…")
    assert render(LogisticRegression(C=2.0)) == "LogisticRegression(C=2.0)"


def test_to_dict_round_trips_through_json(adult_model) -> None:
    summary = model_summary(adult_model)
    data = summary.to_dict()
    assert json.loads(json.dumps(data)) == data
    assert data["estimator"] == summary.estimator and data["library"] == "sklearn"
    assert data["size"] == summary.size.to_dict("records")
    assert pd.DataFrame(data["params"]).equals(summary.params)
    assert [r["step"] for r in data["steps"]] == summary.steps["step"].tolist()
    empty = model_summary(object()).to_dict()
    assert json.loads(json.dumps(empty)) == empty and empty["size"] == [] and empty["params"] == []
