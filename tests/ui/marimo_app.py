"""A marimo app with two linked errorscope views, run headless by test_hosts_ui.py (``marimo run``)."""

import marimo

app = marimo.App(width="full")


@app.cell
def _():
    import marimo as mo
    from sklearn.linear_model import LogisticRegression

    import errorscope as es

    df = es.datasets.load_adult()
    num = ["age", "education-num", "capital-gain", "capital-loss", "hours-per-week"]
    model = LogisticRegression(max_iter=1000).fit(df[num], df["income"])
    ev = es.Evaluation(df, "income", model=model, features=num)
    matrix = mo.ui.anywidget(es.ConfusionMatrix(ev))
    slices = mo.ui.anywidget(es.SliceBrowser(ev, discover=False))
    mo.vstack([matrix, slices])
    return


if __name__ == "__main__":
    app.run()
