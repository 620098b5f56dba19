"""Optional dependencies of the engines beyond numpy, imported on first use with an error naming the extra."""

from __future__ import annotations

import importlib
from types import ModuleType

#: What each extra is called in the error message.
EXTRA_NAMES = {"duckdb": "DuckDB", "spark": "Spark"}


def require(module: str, extra: str, purpose: str) -> ModuleType:
    """Import ``module``, or raise ImportError saying that ``purpose`` needs ``extra`` and how to install it.

    ``purpose`` is what needed the module (for example ``"a Parquet path"``); ``extra`` is one of
    pyproject's optional-dependency groups (``"duckdb"``, ``"spark"``).
    """
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as error:
        # Only the module asked for (or a parent package of it) counts as missing: a ModuleNotFoundError
        # raised from inside an installed module is a broken installation and is re-raised as it is.
        if error.name is None or not (module == error.name or module.startswith(error.name + ".")):
            raise
        engine = EXTRA_NAMES.get(extra, extra)
        raise ImportError(
            f"{purpose} needs the {engine} engine: pip install 'errorscope[{extra}]' "
            f"(module {module!r} is not installed)"
        ) from error
