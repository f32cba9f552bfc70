"""Section 5a of the article: choose the model by BLEU, computed in Python.

BLEU needs decoded text, not tensors, so it cannot be a Keras metric. The
`evaluate_fn` form of `coolkeras.callbacks.Evaluator` receives the model,
decodes, scores with sacrebleu and returns one float, logged as `bleu`. The toy
task: reverse a sequence of words.
"""

import os
import tempfile

import keras
import numpy as np
import sacrebleu

from coolkeras.callbacks import Evaluator

WORDS = ["the", "cat", "sat", "on", "a", "red", "mat", "today"]
LENGTH = 6


def make_data(samples: int, seed: int):
    rng = np.random.default_rng(seed)
    x = rng.integers(0, len(WORDS), size=(samples, LENGTH))
    return x, x[:, ::-1].copy()


def to_text(tokens) -> str:
    return " ".join(WORDS[int(t)] for t in tokens)


def build_model() -> keras.Model:
    inputs = keras.Input((LENGTH,), dtype="int32")
    h = keras.layers.Embedding(len(WORDS), 8)(inputs)
    h = keras.layers.Flatten()(h)
    h = keras.layers.Dense(LENGTH * len(WORDS))(h)
    outputs = keras.layers.Softmax()(keras.layers.Reshape((LENGTH, len(WORDS)))(h))
    return keras.Model(inputs, outputs)


def make_bleu(x_val, y_val):
    references = [to_text(row) for row in y_val]

    def bleu(model: keras.Model) -> float:
        decoded = model.predict(x_val, verbose=0).argmax(axis=-1)
        hypotheses = [to_text(row) for row in decoded]
        return sacrebleu.corpus_bleu(hypotheses, [references]).score

    return bleu


def main(samples: int = 1024, epochs: int = 8, out_dir: str | None = None,
         verbose: int = 0) -> dict:
    x, y = make_data(samples, seed=0)
    x_val, y_val = make_data(max(samples // 8, 16), seed=1)
    model = build_model()
    model.compile(optimizer=keras.optimizers.Adam(0.02),
                  loss="sparse_categorical_crossentropy")
    out_dir = out_dir or tempfile.mkdtemp()
    path = os.path.join(out_dir, "best_bleu.keras")
    bleu = make_bleu(x_val, y_val)
    evaluator = Evaluator(bleu, mode="max", name="bleu", save_best=path,
                          restore_best=True, verbose=verbose)
    history = model.fit(x, y, epochs=epochs, batch_size=32, verbose=verbose,
                        callbacks=[evaluator])
    result = {
        "bleu": history.history["bleu"],
        "best": evaluator.best,
        "path": path,
        "reloaded_bleu": bleu(keras.saving.load_model(path)),
    }
    if verbose:
        print(result)
    return result


if __name__ == "__main__":
    main(verbose=1)
