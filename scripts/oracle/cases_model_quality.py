"""Golden vectors for the model-quality metrics (src/stats/model-quality.ts), computed with scikit-learn.

model_quality.json:
- "classification": labels, predictions (strings, or integer class codes when "kind" is "number"; null = missing)
  and optional scores of the positive class ("nan" = missing). Expected: sklearn's accuracy_score; precision_score,
  recall_score and f1_score with average='binary' (pos_label = "positive"), 'macro' and 'weighted', all with
  zero_division=0; roc_auc_score(labels == positive, scores). sklearn rejects missing values, so the rows with a
  missing label or prediction (a missing label or score, for ROC AUC) are dropped here before sklearn sees them,
  and driftwatch must skip the same rows and report how many it used ("n") and skipped ("skipped").
- "regression": y_true and y_pred ("nan" = missing); expected mean_absolute_error and root_mean_squared_error over
  the rows where both are finite.

Where sklearn cannot give a value (it raises ValueError, e.g. average='binary' with three classes, or returns NaN
with a warning, e.g. ROC AUC with one class in y_true), the expected entry is {"status": "insufficient_data"}.
"""
from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np
from sklearn import metrics

from common import enc_float, enc_floats, rng


def _ok(value: Any, n: int, skipped: int) -> dict[str, Any]:
    return {"status": "ok", "value": enc_float(float(value)), "n": n, "skipped": skipped}


def _insufficient(n: int, skipped: int) -> dict[str, Any]:
    return {"status": "insufficient_data", "n": n, "skipped": skipped}


def _missing(v: Any) -> bool:
    return v is None or v == "" or (isinstance(v, float) and not math.isfinite(v))


def _metric(fn, n: int, skipped: int) -> dict[str, Any]:
    """sklearn's value, or insufficient data where sklearn raises ValueError, returns NaN or has no rows."""
    if n == 0:
        return _insufficient(n, skipped)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            value = fn()
    except ValueError:
        return _insufficient(n, skipped)
    if isinstance(value, float) and math.isnan(value):
        return _insufficient(n, skipped)
    return _ok(value, n, skipped)


def classification_case(case_id: str, description: str, labels: list, predictions: list,
                        positive: Any = None, scores: list[float] | None = None) -> dict[str, Any]:
    kind = "number" if all(isinstance(v, (int, np.integer)) or v is None for v in labels + predictions) else "string"
    labels = [None if v is None else (int(v) if kind == "number" else str(v)) for v in labels]
    predictions = [None if v is None else (int(v) if kind == "number" else str(v)) for v in predictions]
    rows = len(labels)
    keep = [i for i in range(rows) if not _missing(labels[i]) and not _missing(predictions[i])]
    y_true = np.array([labels[i] for i in keep], dtype=object if kind == "string" else np.int64)
    y_pred = np.array([predictions[i] for i in keep], dtype=object if kind == "string" else np.int64)
    if kind == "string":
        y_true = y_true.astype(str)
        y_pred = y_pred.astype(str)
    n, skipped = len(keep), rows - len(keep)

    expected: dict[str, Any] = {"accuracy": _metric(lambda: metrics.accuracy_score(y_true, y_pred), n, skipped)}
    for name, fn in (("precision", metrics.precision_score), ("recall", metrics.recall_score),
                     ("f1", metrics.f1_score)):
        per: dict[str, Any] = {}
        for average in ("macro", "weighted"):
            per[average] = _metric(lambda: fn(y_true, y_pred, average=average, zero_division=0), n, skipped)
        if positive is not None:
            per["binary"] = _metric(
                lambda: fn(y_true, y_pred, average="binary", pos_label=positive, zero_division=0), n, skipped)
        expected[name] = per
    if n:
        classes = sorted(set(y_true.tolist()) | set(y_pred.tolist()))
        cm = metrics.confusion_matrix(y_true, y_pred, labels=classes)
        # Counts only for small matrices (the 200-class one would add 40000 numbers); the order is always checked.
        expected["confusion"] = {"classes": [str(c) for c in classes],
                                 "counts": cm.ravel().tolist() if len(classes) <= 10 else None}

    out: dict[str, Any] = {
        "id": case_id,
        "description": description,
        "kind": kind,
        "labels": labels,
        "predictions": predictions,
    }
    if scores is not None:
        s = np.asarray(scores, dtype=np.float64)
        keep_auc = [i for i in range(rows) if not _missing(labels[i]) and math.isfinite(s[i])]
        yt = np.array([1 if labels[i] == positive else 0 for i in keep_auc], dtype=np.int64)
        ys = s[keep_auc]
        n_auc, skipped_auc = len(keep_auc), rows - len(keep_auc)
        distinct = {labels[i] for i in keep_auc}
        if len(distinct) > 2:
            # sklearn's roc_auc_score(y_true, 1-D scores) raises for multiclass labels.
            expected["roc_auc"] = _insufficient(n_auc, skipped_auc)
        else:
            expected["roc_auc"] = _metric(lambda: metrics.roc_auc_score(yt, ys), n_auc, skipped_auc)
        out["scores"] = enc_floats(s)
    out["positive"] = positive
    out["expected"] = expected
    return out


def regression_case(case_id: str, description: str, y_true: np.ndarray, y_pred: np.ndarray) -> dict[str, Any]:
    keep = np.isfinite(y_true) & np.isfinite(y_pred)
    n, skipped = int(keep.sum()), int((~keep).sum())
    t, p = y_true[keep], y_pred[keep]
    return {
        "id": case_id,
        "description": description,
        "y_true": enc_floats(y_true),
        "y_pred": enc_floats(y_pred),
        "expected": {
            "mae": _metric(lambda: metrics.mean_absolute_error(t, p), n, skipped),
            "rmse": _metric(lambda: metrics.root_mean_squared_error(t, p), n, skipped),
        },
    }


def _noisy_classifier(g: np.random.Generator, y: np.ndarray, separation: float) -> np.ndarray:
    """Scores in (0, 1) for binary labels y: a logistic of a normal shifted by +-separation."""
    z = g.normal(0.0, 1.0, size=y.shape[0]) + np.where(y == 1, separation, -separation)
    return 1.0 / (1.0 + np.exp(-z))


def classification_cases() -> list[dict[str, Any]]:
    cases = []
    g = rng(9101)

    # Balanced binary, integer codes 0/1, continuous scores (hundreds of distinct thresholds).
    y = g.integers(0, 2, size=600)
    s = _noisy_classifier(g, y, 0.8)
    pred = (s >= 0.5).astype(np.int64)
    cases.append(classification_case(
        "binary_balanced_codes", "600 rows, 0/1 codes, balanced, continuous scores",
        y.tolist(), pred.tolist(), positive=1, scores=s.tolist()))

    # Imbalanced binary with strings, missing labels, predictions and scores.
    n = 2000
    y = (g.random(n) < 0.04).astype(np.int64)
    s = _noisy_classifier(g, y, 1.2)
    pred = (s >= 0.7).astype(np.int64)
    labels: list[Any] = ["fraud" if v else "ok" for v in y]
    preds: list[Any] = ["fraud" if v else "ok" for v in pred]
    scores = s.tolist()
    for i in g.choice(n, size=40, replace=False):
        labels[i] = None
    for i in g.choice(n, size=30, replace=False):
        preds[i] = None
    for i in g.choice(n, size=25, replace=False):
        scores[i] = float("nan")
    cases.append(classification_case(
        "binary_imbalanced_strings_missing",
        "2000 rows, 4% positive ('fraud'), some labels, predictions and scores missing",
        labels, preds, positive="fraud", scores=scores))

    # Heavy ties in the scores: rounded to one decimal, so each threshold holds positives and negatives.
    y = g.integers(0, 2, size=500)
    s = np.round(_noisy_classifier(g, y, 0.5), 1)
    pred = (s >= 0.5).astype(np.int64)
    cases.append(classification_case(
        "binary_tied_scores", "500 rows, scores rounded to 0.1 (about ten distinct values)",
        y.tolist(), pred.tolist(), positive=1, scores=s.tolist()))

    # Every score equal: one threshold, the diagonal, AUC 0.5.
    y = g.integers(0, 2, size=50)
    cases.append(classification_case(
        "binary_all_scores_tied", "50 rows, every score 0.3", y.tolist(), [1] * 50, positive=1,
        scores=[0.3] * 50))

    # Few rows with hand-checkable ties (the sklearn docs example, extended).
    cases.append(classification_case(
        "binary_small_ties", "8 rows, scores tied across classes",
        [0, 0, 1, 1, 0, 1, 1, 0], [0, 1, 1, 1, 0, 0, 1, 0], positive=1,
        scores=[0.1, 0.4, 0.35, 0.8, 0.4, 0.35, 0.9, 0.1]))

    # Perfect separation and perfect inversion.
    y = g.integers(0, 2, size=40)
    s = y + g.random(40) * 0.5
    cases.append(classification_case("binary_perfect", "scores separate the classes", y.tolist(), y.tolist(),
                                     positive=1, scores=s.tolist()))
    cases.append(classification_case("binary_inverted", "scores rank every negative first", y.tolist(),
                                     (1 - y).tolist(), positive=1, scores=(-s).tolist()))

    # Multiclass: four classes, 'd' never predicted; a fifth class 'e' predicted but never a label.
    classes = np.array(["a", "b", "c", "d"])
    y = g.choice(4, size=800, p=[0.5, 0.3, 0.15, 0.05])
    pred = np.where(g.random(800) < 0.7, y, g.choice(3, size=800))
    pred = np.where(pred == 3, 0, pred)  # 'd' is never predicted
    cases.append(classification_case(
        "multiclass_never_predicted", "800 rows, classes a-d, 'd' never predicted",
        classes[y].tolist(), classes[pred].tolist()))
    preds = classes[pred].tolist()
    for i in g.choice(800, size=20, replace=False):
        preds[i] = "e"
    labels = classes[y].tolist()
    for i in g.choice(800, size=15, replace=False):
        labels[i] = None
    cases.append(classification_case(
        "multiclass_predicted_only_and_missing",
        "800 rows, 'd' never predicted, 'e' only predicted, 15 labels missing; binary average must refuse",
        labels, preds, positive="a", scores=g.random(800).tolist()))

    # Many classes: the macro mean sums more than 128 values (numpy's pairwise blocks).
    y = g.integers(0, 200, size=3000)
    pred = np.where(g.random(3000) < 0.6, y, g.integers(0, 200, size=3000))
    cases.append(classification_case("multiclass_200_codes", "3000 rows, 200 integer classes",
                                     y.tolist(), pred.tolist()))

    # One class only.
    cases.append(classification_case(
        "all_one_class_labels", "every label 'yes', predictions mixed: ROC AUC undefined",
        ["yes"] * 30, ["yes"] * 20 + ["no"] * 10, positive="yes", scores=g.random(30).tolist()))
    cases.append(classification_case(
        "all_one_class_positive_absent", "labels and predictions all 'yes', positive 'no': binary metrics 0",
        ["yes"] * 12, ["yes"] * 12, positive="no", scores=g.random(12).tolist()))
    cases.append(classification_case(
        "binary_positive_not_present", "two classes present, positive 'maybe' is neither: sklearn raises",
        ["yes", "no", "yes", "no"], ["yes", "yes", "no", "no"], positive="maybe"))

    # Nothing usable.
    cases.append(classification_case(
        "no_complete_rows", "every row misses a label or a prediction",
        ["a", None, "b"], [None, "a", None], positive="a", scores=[0.1, 0.2, float("nan")]))
    return cases


def regression_cases() -> list[dict[str, Any]]:
    g = rng(9102)
    cases = []
    n = 1000
    t = g.normal(50.0, 10.0, size=n)
    p = t + g.normal(0.0, 2.0, size=n)
    cases.append(regression_case("regression_gaussian", "1000 rows, normal errors", t, p))

    t = g.normal(50.0, 10.0, size=700)
    p = t + g.normal(0.0, 2.0, size=700)
    p[g.choice(700, size=7, replace=False)] += g.choice([-1, 1], size=7) * g.uniform(500, 5000, size=7)
    t[g.choice(700, size=20, replace=False)] = np.nan
    p[g.choice(700, size=20, replace=False)] = np.nan
    t[3] = np.inf
    p[4] = -np.inf
    cases.append(regression_case("regression_outliers_nans",
                                 "700 rows, 7 huge errors, NaN in both columns, one inf each", t, p))

    t = g.lognormal(0.0, 3.0, size=300)
    p = t * g.lognormal(0.0, 0.5, size=300)
    cases.append(regression_case("regression_wide_magnitudes", "300 rows spanning many orders of magnitude", t, p))

    cases.append(regression_case("regression_exact", "predictions equal targets", np.arange(10.0), np.arange(10.0)))
    cases.append(regression_case("regression_all_missing", "no complete row",
                                 np.array([np.nan, 1.0]), np.array([2.0, np.nan])))
    return cases


def build() -> dict:
    return {
        "model_quality": {
            "sklearn_settings": "zero_division=0; roc_auc_score on (label == positive)",
            "cases": classification_cases(),
            "regression_cases": regression_cases(),
        }
    }
