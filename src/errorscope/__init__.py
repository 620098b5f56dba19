"""errorscope: linked Jupyter widgets for debugging classifiers and regressors.

>>> import errorscope as es
>>> ev = es.Evaluation(df, y_true="income", model=model)
>>> es.ConfusionMatrix(ev)
"""

from . import datasets
from .evaluation import Evaluation
from .selection import Clause, Predicate, Selection
from .tags import TagStore, TagStoreError
from .widgets import (
    ConfusionMatrix,
    Dashboard,
    DataProfile,
    ErrorTagger,
    ForceViewer,
    GroupComparer,
    ModelComparer,
    ModelOverview,
    ResidualPlot,
    SelectionBar,
    SliceBrowser,
    dashboard,
)

__version__ = "0.1.0"
__all__ = [
    "Clause",
    "ConfusionMatrix",
    "Dashboard",
    "DataProfile",
    "ErrorTagger",
    "Evaluation",
    "ForceViewer",
    "GroupComparer",
    "ModelComparer",
    "ModelOverview",
    "Predicate",
    "ResidualPlot",
    "Selection",
    "SelectionBar",
    "SliceBrowser",
    "TagStore",
    "TagStoreError",
    "dashboard",
    "datasets",
]
