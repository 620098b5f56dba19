"""errorscope.engines.extras: an engine's optional dependency missing is an ImportError naming the extra."""

from __future__ import annotations

import sys

import pytest

from errorscope.engines.extras import require

MISSING = "errorscope_no_such_module_7f3a"


def test_require_returns_the_module():
    import json

    assert require("json", "duckdb", "a Parquet path") is json
    assert require("os.path", "spark", "a PySpark DataFrame") is sys.modules["os.path"]


@pytest.mark.parametrize(
    ("module", "extra", "purpose", "expected"),
    [
        (
            MISSING,
            "duckdb",
            "a Parquet path",
            "a Parquet path needs the DuckDB engine: pip install 'errorscope[duckdb]'",
        ),
        (
            MISSING,
            "spark",
            "a PySpark DataFrame",
            "a PySpark DataFrame needs the Spark engine: pip install 'errorscope[spark]'",
        ),
        (
            f"{MISSING}.sub",
            "duckdb",
            "an Arrow table",
            "an Arrow table needs the DuckDB engine: pip install 'errorscope[duckdb]'",
        ),
    ],
)
def test_missing_module_names_the_extra_and_the_purpose(module, extra, purpose, expected):
    with pytest.raises(ImportError) as caught:
        require(module, extra, purpose)
    assert str(caught.value).startswith(expected)
    assert repr(module) in str(caught.value)
    assert isinstance(caught.value.__cause__, ModuleNotFoundError)


def test_a_missing_module_inside_an_installed_one_is_not_blamed_on_the_extra(tmp_path, monkeypatch):
    """A broken installation (the module imports something absent) keeps its own error, not 'pip install'."""
    (tmp_path / "errorscope_broken_pkg_7f3a.py").write_text(f"import {MISSING}\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(ModuleNotFoundError) as caught:
        require("errorscope_broken_pkg_7f3a", "duckdb", "a Parquet path")
    assert caught.value.name == MISSING
    assert "errorscope[" not in str(caught.value)
