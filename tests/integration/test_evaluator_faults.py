"""Faults around the Evaluator: a failed or killed save, a full disk, a raising metric.

After each fault, `best`/`best_epoch` describe the file on disk, no temporary
file survives the next save, and the error says what failed and why.
"""

import errno
import os
import random
import signal
import subprocess
import time
import traceback
import warnings

import keras
import pytest

from coolkeras.callbacks import Evaluator, _atomic
from tests.callbacks.evaluator_helpers import (
    Scripted,
    WeightLog,
    assert_weights_equal,
    tiny_data,
    tiny_model,
)


@pytest.fixture(params=[True, False], ids=["filtered", "unfiltered"])
def traceback_filtering(request):
    """Keras' traceback filtering on (the default) and off."""
    was = keras.config.is_traceback_filtering_enabled()
    if request.param:
        keras.config.enable_traceback_filtering()
    else:
        keras.config.disable_traceback_filtering()
    yield request.param
    if was:
        keras.config.enable_traceback_filtering()
    else:
        keras.config.disable_traceback_filtering()


def formatted(info) -> str:
    return "".join(traceback.format_exception(info.type, info.value, info.tb))


def test_failed_save_names_save_best_and_keeps_best_with_the_file(
    tmp_path, traceback_filtering
):
    x, y = tiny_data()
    model = tiny_model()
    log = WeightLog()
    path = str(tmp_path / "best.keras")
    original, calls = model.save, []

    def full_disk_on_second_save(filepath, *args, **kwargs):
        calls.append(filepath)
        if len(calls) == 2:
            with open(filepath, "wb") as f:
                f.write(b"PK half a zip")
            raise OSError(errno.ENOSPC, "No space left on device")
        return original(filepath, *args, **kwargs)

    model.save = full_disk_on_second_save
    evaluator = Evaluator(
        {"s": Scripted([0.1, 0.5, 0.9])}, data=(x, y), mode="max",
        save_best=path, restore_best=True,
    )
    with pytest.raises(OSError) as info:
        model.fit(x, y, epochs=3, verbose=0, callbacks=[evaluator, log])
    message = str(info.value)
    assert f"Received: save_best={path!r}" in message
    assert "best model of epoch 2 (s=0.50000)" in message
    assert "OSError: [Errno 28] No space left on device" in message
    assert info.value.errno == errno.ENOSPC
    if not traceback_filtering:  # Keras' filter re-raises `from None`
        assert isinstance(info.value.__cause__, OSError)
    assert calls[1] != path  # the writer never wrote the destination itself
    # best/best_epoch describe the file: epoch 1, whose model loads.
    assert (evaluator.best, evaluator.best_epoch, evaluator.best_path) == (0.1, 0, path)
    assert_weights_equal(keras.saving.load_model(path).get_weights(), log.weights[0])
    assert_weights_equal(model.get_weights(), log.weights[0])  # restore_best
    assert os.listdir(tmp_path) == ["best.keras"]


@pytest.mark.parametrize("form", ["metric", "evaluate_fn"])
def test_raising_metric_keeps_its_line_in_the_traceback_and_restores_the_best(
    form, traceback_filtering
):
    x, y = tiny_data()
    model = tiny_model()
    log = WeightLog()
    values = iter([0.5, 0.9])

    def flaky(*args):
        value = next(values, None)
        if value is None:
            raise ZeroDivisionError("boom in flaky")  # the failing line
        return value

    if form == "metric":
        evaluator = Evaluator({"f1": flaky}, data=(x, y), mode="max",
                              restore_best=True)
        what = "metric 'f1'"
    else:
        evaluator = Evaluator(flaky, mode="max", name="f1", restore_best=True)
        what = "evaluate_fn"
    with pytest.raises(RuntimeError) as info:
        model.fit(x, y, epochs=4, verbose=0, callbacks=[evaluator, log])
    assert f"{what} raised at epoch 3: ZeroDivisionError: boom in flaky" in str(
        info.value
    )
    text = formatted(info)
    assert 'raise ZeroDivisionError("boom in flaky")  # the failing line' in text
    if not traceback_filtering:
        assert isinstance(info.value.__cause__, ZeroDivisionError)
    # Epoch 3 trained, then the Evaluator stopped training: restore_best applied.
    assert len(log.weights) == 2
    assert_weights_equal(model.get_weights(), log.weights[1])


class FillDisk(keras.callbacks.Callback):
    """Fills the file system of `folder` at the end of epoch `after_epoch`."""

    def __init__(self, folder, after_epoch):
        super().__init__()
        self.folder, self.after_epoch = folder, after_epoch

    def on_epoch_end(self, epoch, logs=None):
        if epoch != self.after_epoch:
            return
        fd = os.open(os.path.join(self.folder, "filler"), os.O_WRONLY | os.O_CREAT)
        try:
            while True:
                os.write(fd, b"\0" * 4096)
        except OSError as e:
            assert e.errno == errno.ENOSPC
        finally:
            os.close(fd)


@pytest.fixture
def small_disk(tmp_path):
    """A 1 MB tmpfs, where the machine allows mounting one."""
    folder = tmp_path / "disk"
    folder.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(folder)],
        capture_output=True, text=True,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", str(folder)], check=True)


def test_full_disk_keeps_best_with_the_file_and_is_seen_at_the_next_start(
    small_disk,
):
    x, y = tiny_data()
    model = tiny_model()
    log = WeightLog()
    path = str(small_disk / "best.keras")
    evaluator = Evaluator(
        {"s": Scripted([0.1, 0.5])}, data=(x, y), mode="max", save_best=path
    )
    with pytest.raises(OSError) as info:
        model.fit(
            x, y, epochs=2, verbose=0,
            callbacks=[evaluator, FillDisk(small_disk, after_epoch=0), log],
        )
    assert info.value.errno == errno.ENOSPC
    assert f"Received: save_best={path!r}" in str(info.value)
    assert "No space left on device" in str(info.value)
    assert (evaluator.best, evaluator.best_epoch) == (0.1, 0)
    assert_weights_equal(keras.saving.load_model(path).get_weights(), log.weights[0])
    assert sorted(os.listdir(small_disk)) == ["best.keras", "filler"]
    # The disk is still full: the next fit fails at its start, before training.
    metric, later = Scripted([0.9]), WeightLog()
    evaluator = Evaluator({"s": metric}, data=(x, y), mode="max", save_best=path)
    with pytest.raises(ValueError, match="`save_best` is not writable.*No space"):
        model.fit(x, y, epochs=1, verbose=0, callbacks=[evaluator, later])
    assert metric.calls == 0 and later.weights == []
    assert sorted(os.listdir(small_disk)) == ["best.keras", "filler"]


def save_forever(model, path, signal_fd):
    """Evaluates and saves at every epoch; signals `signal_fd` before each save."""
    values = iter(range(1, 10**6))

    def improving(model):
        os.write(signal_fd, b"s")
        return float(next(values))

    evaluator = Evaluator(improving, mode="max", save_best=path)
    callbacks = keras.callbacks.CallbackList([evaluator], model=model)
    callbacks.on_train_begin()
    for epoch in range(10**6):
        callbacks.on_epoch_begin(epoch)
        callbacks.on_epoch_end(epoch, {})


def killed_saves(model, path, trials, seed=0):
    """SIGKILLs a forked child during its best-model save, `trials` times.

    The child drives an Evaluator whose value improves at every epoch, so each
    evaluation saves; it writes a byte to a pipe just before the save. The
    parent kills it at a random moment within 1.5 save durations of that byte.
    The child only evaluates and saves (TensorFlow cannot train after a fork).
    Returns, per trial, the temporary files left and whether `path` loads.
    """
    _atomic.save_model_or_weights(model, path)
    start = time.perf_counter()
    _atomic.save_model_or_weights(model, path)
    duration = time.perf_counter() - start
    rng = random.Random(seed)
    results = []
    for _ in range(trials):
        read_end, write_end = os.pipe()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # JAX warns that fork and threads mix
            pid = os.fork()
        if pid == 0:  # the child
            try:
                os.close(read_end)
                save_forever(model, path, write_end)
            finally:
                os._exit(0)
        os.close(write_end)
        os.read(read_end, 1)
        time.sleep(rng.uniform(0.0, 1.5 * duration))
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        os.close(read_end)
        left = [n for n in os.listdir(os.path.dirname(path)) if ".tmp-" in n]
        try:
            keras.saving.load_model(path)
            loads = True
        except Exception:  # noqa: BLE001 - any failure to load counts
            loads = False
        results.append((left, loads))
    return results


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_sigkill_during_the_save_never_breaks_the_best_file_and_leaves_no_temporary(
    tmp_path,
):
    x, y = tiny_data()
    model = tiny_model()
    model.fit(x, y, epochs=1, verbose=0)
    path = str(tmp_path / "best.keras")
    results = killed_saves(model, path, trials=20)
    unloadable = sum(not loads for _, loads in results)
    with_leftover = sum(bool(left) for left, _ in results)
    print(f"kills: {len(results)}, unloadable: {unloadable}, "
          f"left a temporary file: {with_leftover}")
    assert unloadable == 0
    # A kill leaves at most its own temporary file: each later save in the
    # folder removed the earlier ones.
    assert max(len(left) for left, _ in results) <= 1
    assert with_leftover > 0  # the kills did land inside saves
    # The next run saves in that folder and removes the last one.
    evaluator = Evaluator({"s": Scripted([1.0])}, data=(x, y), mode="max",
                          save_best=path)
    model.fit(x, y, epochs=1, verbose=0, callbacks=[evaluator])
    assert os.listdir(tmp_path) == ["best.keras"]
    keras.saving.load_model(path)
