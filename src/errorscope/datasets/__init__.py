"""Real datasets bundled for examples and tests (read offline; see data/README.md for sources)."""

from __future__ import annotations

import csv
from importlib import resources

import pandas as pd

ADULT_COLUMNS = [
    "age", "workclass", "fnlwgt", "education", "education-num", "marital-status", "occupation",
    "relationship", "race", "sex", "capital-gain", "capital-loss", "hours-per-week",
    "native-country", "income",
]  # fmt: skip
LETTER_FEATURES = [
    "x-box", "y-box", "width", "high", "onpix", "x-bar", "y-bar", "x2bar", "y2bar", "xybar",
    "x2ybr", "xy2br", "x-ege", "xegvy", "y-ege", "yegvx",
]  # fmt: skip
COMPAS_PRIVATE = ["name", "first", "last", "dob"]


def _path(name: str):  # type: ignore[no-untyped-def]
    return resources.files(__name__).joinpath("data", name)


def load_adult(split: str = "test") -> pd.DataFrame:
    """UCI Adult (census income). ``split``: "train" (32,561 rows), "test" (16,281) or "all".

    Missing values ("?") are NaN; the test split's trailing "." on labels is removed.
    """
    if split not in ("train", "test", "all"):
        raise ValueError(f"split must be 'train', 'test' or 'all', got {split!r}.")
    kw = dict(header=None, names=ADULT_COLUMNS, skipinitialspace=True, na_values="?")
    frames = []
    if split in ("train", "all"):
        with _path("adult.data.gz").open("rb") as f:
            frames.append(pd.read_csv(f, compression="gzip", **kw))
    if split in ("test", "all"):
        with _path("adult.test.gz").open("rb") as f:
            test = pd.read_csv(f, compression="gzip", skiprows=1, **kw)
        test["income"] = test["income"].str.rstrip(".")
        frames.append(test)
    return pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]


def load_compas() -> pd.DataFrame:
    """ProPublica COMPAS two-year recidivism (7,214 rows), without names and dates of birth."""
    with _path("compas-scores-two-years.csv.gz").open("rb") as f:
        df = pd.read_csv(f, compression="gzip")
    return df.drop(columns=COMPAS_PRIVATE)


def load_letter() -> pd.DataFrame:
    """UCI Letter Recognition: 20,000 rows, 16 integer features, 26 classes (``letter``)."""
    with _path("letter-recognition.data.gz").open("rb") as f:
        return pd.read_csv(f, compression="gzip", header=None, names=["letter", *LETTER_FEATURES])


def load_sms_spam() -> pd.DataFrame:
    """UCI SMS Spam Collection: 5,574 messages, ``label`` (ham/spam) and ``text``."""
    with _path("SMSSpamCollection.tsv.gz").open("rb") as f:
        return pd.read_csv(
            f, compression="gzip", sep="\t", header=None, names=["label", "text"],
            quoting=csv.QUOTE_NONE, encoding="utf-8",
        )  # fmt: skip


def load_wage() -> pd.DataFrame:
    """ISLR's Wage: 3,000 male workers in the US Mid-Atlantic (CPS 2003-2009); target ``wage``
    (thousands of USD). ``logwage`` is the target's log (drop it before fitting); ``region`` has one value."""
    with _path("Wage.csv.gz").open("rb") as f:
        return pd.read_csv(f, compression="gzip")


BIKESHARE_MONTHS = ["Jan", "Feb", "March", "April", "May", "June", "July", "Aug", "Sept", "Oct", "Nov", "Dec"]


def load_bikeshare() -> pd.DataFrame:
    """Capital Bikeshare (Washington D.C.), 8,645 hours of 2011; target ``bikers`` (rentals in the hour).
    ``casual + registered = bikers`` (drop both before fitting); ``mnth`` is an ordered categorical."""
    with _path("Bikeshare.csv.gz").open("rb") as f:
        frame = pd.read_csv(f, compression="gzip")
    frame["mnth"] = pd.Categorical(frame["mnth"], categories=BIKESHARE_MONTHS, ordered=True)
    return frame


__all__ = ["load_adult", "load_bikeshare", "load_compas", "load_letter", "load_sms_spam", "load_wage"]
