import numpy as np
import pytest

from model.calibration import calibration_errors, expected_calibration_error, fit_temperatures, model_decided
from model.formulations import formulation_from


def _softmax(x):
    e = np.exp(x - x.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def test_expected_calibration_error_by_hand():
    sure_and_right = np.array([[0.9, 0.1, 0, 0]] * 4)
    assert expected_calibration_error(sure_and_right, np.zeros(4, int)) == pytest.approx(0.1)
    # bin 0.9: half right (|0.5 - 0.9| = 0.4); bin 0.6: all right (|1 - 0.6| = 0.4); weights 2/3, 1/3
    probs = np.array([[0.9, 0.1, 0, 0], [0.9, 0.1, 0, 0], [0.6, 0.4, 0, 0]])
    assert expected_calibration_error(probs, np.array([0, 1, 0])) == pytest.approx(0.4)


@pytest.mark.parametrize("name", ["target_pair", "multi_head"])
def test_temperature_scaling_calibrates_an_over_confident_toy_model_and_keeps_its_labels(name):
    rng = np.random.default_rng(0)
    reader = formulation_from({"formulation": name})
    n, k = 2000, len(reader.keys)
    honest = rng.normal(0, 1.5, (n, k, 4))
    # labels drawn from the honest probabilities: those logits are calibrated by construction
    gold = (rng.random((n, k, 1)) > _softmax(honest).cumsum(-1)).sum(-1)
    scale = np.array([4.0, 2.5, 1.5])
    logits = honest * scale[None, :, None]  # over-confident, by a different factor per target
    ids = [f"a{i}" for i in range(n)]
    if name == "target_pair":
        named = rng.random((n, k)) < 0.8  # the rest are `none` by rule: no window, not fitted
        rows, cols = np.nonzero(named)
        windows = {"id": [ids[i] for i in rows], "target": cols.tolist(), "mentions": [1] * len(rows)}
        window_logits = logits[rows, cols]
    else:
        windows, window_logits = {"id": ids}, logits.reshape(n, k * 4)
    temperature = fit_temperatures(reader, window_logits, windows, ids, gold)
    assert [temperature[key] for key in reader.keys] == pytest.approx(scale, rel=0.2)
    before, info = reader.aggregate(window_logits, windows, ids)
    after, _ = reader.aggregate(window_logits, windows, ids, temperature)
    errors = calibration_errors(before, after, gold, model_decided(info, gold.shape), reader.keys)
    for key in (*reader.keys, "all"):
        assert errors["after"][key] < errors["before"][key] / 2, (key, errors)
    assert (after.argmax(-1) == before.argmax(-1)).all()
    assert errors["pairs"][reader.keys[0]] == (named[:, 0].sum() if name == "target_pair" else n)
