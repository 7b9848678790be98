#!/usr/bin/env python3
"""Reference values for exahealth-nn's metrics, computed with scikit-learn.

Reads a JSON file of cases written by crates/exahealth-nn/tests/metrics_sklearn.rs
and prints (or writes with --out) the same metrics computed by scikit-learn:

  classification cases: {"name", "truth": [int], "scores": [[float]], "num_classes"}
    -> confusion matrix, accuracy, balanced accuracy, per-class precision/recall/F1
       (zero_division=0), macro/micro/weighted averages, Cohen's kappa (plain and
       quadratic), ROC AUC (binary, or one-vs-rest macro and per class)
  mask cases: {"name", "pred": [0/1], "truth": [0/1]} -> Dice (F1) and IoU (Jaccard)

Usage: python3 bench/metrics_reference.py CASES.json [--out RESULT.json]
Needs: numpy, scikit-learn (see bench/requirements.txt).
"""
import argparse
import json
import sys

import numpy as np
from sklearn import metrics as skm


def classification(case):
    y = np.asarray(case["truth"], dtype=np.int64)
    s = np.asarray(case["scores"], dtype=np.float64)
    k = int(case["num_classes"])
    labels = list(range(k))
    # Same tie rule as the Rust side: the first maximum wins.
    pred = np.argmax(s, axis=1)
    out = {
        "confusion_matrix": skm.confusion_matrix(y, pred, labels=labels).tolist(),
        "accuracy": skm.accuracy_score(y, pred),
        "balanced_accuracy": skm.balanced_accuracy_score(y, pred),
        "kappa": skm.cohen_kappa_score(y, pred, labels=labels),
        "kappa_quadratic": skm.cohen_kappa_score(y, pred, labels=labels, weights="quadratic"),
    }
    p, r, f, sup = skm.precision_recall_fscore_support(
        y, pred, labels=labels, zero_division=0
    )
    out.update(precision=p.tolist(), recall=r.tolist(), f1=f.tolist(), support=sup.tolist())
    for avg in ("macro", "micro", "weighted"):
        p, r, f, _ = skm.precision_recall_fscore_support(
            y, pred, labels=labels, average=avg, zero_division=0
        )
        out[avg] = {"precision": p, "recall": r, "f1": f}
    if k == 2:
        out["roc_auc"] = skm.roc_auc_score(y, s[:, 1])
    else:
        # scikit-learn's ovr path wants rows that sum to one.
        prob = s / s.sum(axis=1, keepdims=True)
        out["roc_auc"] = skm.roc_auc_score(y, prob, multi_class="ovr", average="macro", labels=labels)
        out["roc_auc_per_class"] = [skm.roc_auc_score(y == c, s[:, c]) for c in labels]
    return out


def mask(case):
    p = np.asarray(case["pred"], dtype=bool)
    t = np.asarray(case["truth"], dtype=bool)
    return {"dice": skm.f1_score(t, p), "iou": skm.jaccard_score(t, p)}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("cases")
    ap.add_argument("--out")
    args = ap.parse_args()
    with open(args.cases) as fh:
        cases = json.load(fh)
    result = {}
    for case in cases["classification"]:
        result[case["name"]] = classification(case)
    for case in cases["masks"]:
        result[case["name"]] = mask(case)
    text = json.dumps(result, indent=1)
    if args.out:
        with open(args.out, "w") as fh:
            fh.write(text)
    else:
        sys.stdout.write(text)


if __name__ == "__main__":
    main()
