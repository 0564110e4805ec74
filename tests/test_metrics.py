import math

import numpy as np
import pytest

from evaluation.bootstrap import bootstrap_intervals
from metrics import load_stance_metric

PRO, AGAINST, NEUTRAL, NONE = range(4)


@pytest.fixture(scope="module")
def metric():
    return load_stance_metric()


def test_scores_match_hand_computed_values(metric):
    # russia: gold pro, against, against / pred pro, against, neutral
    #   pro F1 1; against P 1 R 1/2 F1 2/3; neutral P 0 F1 0 (absent from gold, predicted once)
    # us: every article `none` in gold and prediction: a single class
    # syria: gold pro, pro, none / pred against, pro, none
    #   pro P 1 R 1/2 F1 2/3; against P 0 F1 0 (absent from gold); none F1 1
    gold = [[PRO, NONE, PRO], [AGAINST, NONE, PRO], [AGAINST, NONE, NONE]]
    pred = [[PRO, NONE, AGAINST], [AGAINST, NONE, PRO], [NEUTRAL, NONE, NONE]]
    s = metric.compute(predictions=pred, references=gold)
    assert s["russia_accuracy"] == pytest.approx(2 / 3)
    assert s["russia_macro_f1"] == pytest.approx((1 + 2 / 3 + 0) / 3)
    assert s["russia_f_avg"] == pytest.approx((1 + 2 / 3) / 2)
    assert s["russia_against_recall"] == pytest.approx(0.5)
    assert s["russia_neutral_precision"] == 0 and s["russia_neutral_support"] == 0
    assert math.isnan(s["russia_none_f1"])  # absent from gold and prediction: undefined, not 0
    assert s["us_macro_f1"] == 1.0 and s["us_accuracy"] == 1.0
    assert math.isnan(s["us_f_avg"])  # neither pro nor against anywhere
    assert s["syria_macro_f1"] == pytest.approx((2 / 3 + 0 + 1) / 3)
    assert s["syria_f_avg"] == pytest.approx((2 / 3 + 0) / 2)
    assert s["mean_macro_f1"] == pytest.approx((s["russia_macro_f1"] + 1 + s["syria_macro_f1"]) / 3)
    assert s["mean_f_avg"] == pytest.approx((s["russia_f_avg"] + s["syria_f_avg"]) / 2)  # NaN left out


def test_bootstrap_interval_is_deterministic_under_a_seed_and_brackets_the_score(metric):
    rng = np.random.default_rng(1)
    gold = rng.integers(0, 4, (60, 3))
    pred = np.where(rng.random((60, 3)) < 0.6, gold, rng.integers(0, 4, (60, 3)))
    a = bootstrap_intervals(pred, gold, n_resamples=200, seed=7)
    b = bootstrap_intervals(pred, gold, n_resamples=200, seed=7)
    c = bootstrap_intervals(pred, gold, n_resamples=200, seed=8)
    assert a == b and a != c
    point = metric.compute(predictions=pred, references=gold)
    for key in ("mean_macro_f1", "russia_f_avg", "syria_macro_f1"):
        low, high = a[key]
        assert low < point[key] < high and high - low > 0.02


def test_the_evaluate_library_is_not_shadowed_and_the_metric_loads_from_any_directory(tmp_path):
    import subprocess
    import sys

    from conftest import ROOT
    code = ("import evaluate, sys; print(evaluate.__file__); sys.path.insert(0, sys.argv[1]); "
            "from metrics import load_stance_metric; "
            "print(load_stance_metric().compute(predictions=[[0, 1, 3]], references=[[0, 1, 2]])['mean_accuracy'])")
    for cwd in (ROOT, tmp_path):  # from the repository root, `import evaluate` once found the script
        proc = subprocess.run([sys.executable, "-c", code, str(ROOT)], cwd=cwd, capture_output=True, text=True,
                              timeout=300)
        assert proc.returncode == 0, proc.stderr[-2000:]
        library, accuracy = proc.stdout.split()
        assert "site-packages" in library and float(accuracy) == pytest.approx(2 / 3)
