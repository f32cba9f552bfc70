import math

import pytest

from examples import bleu_evaluator, evaluate_keep_best


def test_evaluate_keep_best_example(tmp_path):
    result = evaluate_keep_best.main(samples=256, epochs=4, out_dir=str(tmp_path))
    accuracies = result["val_accuracy"]
    assert result["best"] == max(accuracies) and result["best"] > 0.5
    assert accuracies[result["best_epoch"]] == result["best"]
    # restore_best: the model ends on its best epoch's weights.
    assert result["final_accuracy"] == pytest.approx(result["best"])


def test_bleu_evaluator_example(tmp_path):
    result = bleu_evaluator.main(samples=512, epochs=4, out_dir=str(tmp_path))
    scores = result["bleu"]
    assert all(math.isfinite(s) for s in scores)
    assert result["best"] == max(scores) and result["best"] > scores[0]
    # The saved whole model decodes to the best BLEU again.
    assert result["reloaded_bleu"] == pytest.approx(result["best"])
