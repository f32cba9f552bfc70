"""`Function` under `safe_mode=True` loads only what Keras' own safe mode would.

Each crafted file is a legit `.keras` whose `config.json` names another function.
Loading it must raise a clear error, import no module and write no file.
"""

import json
import os
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import keras
import numpy as np
import pytest

from coolkeras.layers import Function
from tests.helpers import scale_and_shift

ROOT = Path(__file__).resolve().parents[2]
REFUSED = r"Refusing to load the function .*safe_mode=True.*register_keras_serializable"
NOT_AN_OP = r"is not a public Keras op or activation in Keras 3\."

# name -> (reference written into the file, extra `arguments`, expected error)
CRAFTED = {
    "numpy": ({"module": "numpy", "name": "save"}, {}, REFUSED),
    "torch": ({"module": "torch", "name": "save"}, {"f": "{marker}"}, REFUSED),
    "jax": ({"module": "jax.numpy", "name": "save"}, {}, REFUSED),
    "keras_private": (
        {"module": "keras.src.utils.file_utils", "name": "rmtree"},
        {},
        REFUSED,
    ),
    "keras_private_path_of_an_op": (
        {"module": "keras.src.ops.numpy", "name": "tanh"},
        {},
        REFUSED,
    ),
    "keras_public_not_an_op": (
        {"module": "keras.utils", "name": "get_file"},
        {},
        REFUSED,
    ),
    "keras_ops_attribute_path": (
        {"module": "keras.ops", "name": "__builtins__.exec"},
        {},
        NOT_AN_OP,
    ),
    "keras_ops_submodule": ({"module": "keras.ops", "name": "numpy"}, {}, NOT_AN_OP),
    "keras_activations_deserialize": (
        {"module": "keras.activations", "name": "deserialize"},
        {},
        NOT_AN_OP,
    ),
    "unregistered_function_of_imported_module": (
        {"module": "tests.helpers", "name": "traced"},
        {},
        REFUSED,
    ),
    "unregistered_module": (
        {"module": "coolkeras_test_plain_functions", "name": "double"},
        {},
        REFUSED,
    ),
    "os_system": ({"module": "os", "name": "system"}, {}, REFUSED),
    "os_system_through_keras": (
        {"module": "keras.src.saving.saving_lib", "name": "os.system"},
        {},
        REFUSED,
    ),
    "import_module_through_coolkeras": (
        {"module": "coolkeras.layers.function", "name": "importlib.import_module"},
        {},
        REFUSED,
    ),
    "builtins_exec": ({"module": "__main__", "name": "__builtins__.exec"}, {}, REFUSED),
    "sys_exit": ({"module": "__main__", "name": "sys.exit"}, {}, REFUSED),
    "sys_exit_through_coolkeras": (
        {"module": "coolkeras._keras_internals", "name": "sys.exit"},
        {},
        REFUSED,
    ),
    "main_module_function": ({"module": "__main__", "name": "main"}, {}, REFUSED),
    "f2py_command_line": (
        {"module": "numpy.f2py.__main__", "name": "main"},
        {},
        REFUSED,
    ),
    "module_whose_import_runs_code": (
        {"module": "coolkeras_test_import_side_effect", "name": "anything"},
        {},
        REFUSED,
    ),
    "planted_module_on_sys_path": (
        {"module": "coolkeras_test_planted", "name": "normalize"},
        {},
        REFUSED,
    ),
    "unknown_registered_name": (
        {"module": "os", "name": "system", "registered_name": "attacker>system"},
        {},
        REFUSED,
    ),
}

MODULES = {
    "coolkeras_test_plain_functions": """
        def double(x):
            return x * 2.0
    """,
    "coolkeras_test_import_side_effect": """
        open({marker!r}, "w").write("imported")
    """,
    "coolkeras_test_planted": """
        open({marker!r}, "w").write("imported")

        def normalize(x):
            open({marker!r}, "a").write("called")
            return x
    """,
}


@pytest.fixture
def planted(tmp_path, monkeypatch):
    """Modules on `sys.path` that write `marker` when imported or called."""
    folder = tmp_path / "site"
    folder.mkdir()
    marker = tmp_path / "marker"
    for name, source in MODULES.items():
        text = textwrap.dedent(source).format(marker=str(marker))
        (folder / f"{name}.py").write_text(text)
    monkeypatch.syspath_prepend(str(folder))
    return marker


def legit_file(tmp_path: Path) -> Path:
    inputs = keras.Input((2,))
    model = keras.Model(inputs, Function(scale_and_shift)(inputs))
    path = tmp_path / "legit.keras"
    model.save(path)
    return path


def craft(source: Path, target: Path, function: dict, arguments: dict) -> Path:
    """A copy of `source` whose `Function` layer names `function`."""
    with zipfile.ZipFile(source) as read, zipfile.ZipFile(target, "w") as write:
        for item in read.infolist():
            data = read.read(item.filename)
            if item.filename == "config.json":
                config = json.loads(data)
                (layer,) = [
                    layer
                    for layer in config["config"]["layers"]
                    if layer["class_name"] == "Function"
                ]
                layer["config"]["function"] = function
                layer["config"]["arguments"] = arguments
                data = json.dumps(config)
            write.writestr(item, data)
    return target


@pytest.mark.parametrize("case", sorted(CRAFTED))
def test_crafted_file_is_refused_without_importing_or_running_anything(
    case, tmp_path, planted
):
    function, arguments, expected = CRAFTED[case]
    arguments = {key: value.format(marker=planted) for key, value in arguments.items()}
    legit = legit_file(tmp_path)
    crafted = craft(legit, tmp_path / "crafted.keras", function, arguments)
    keras.models.load_model(legit)  # anything a load imports is imported now
    before = set(sys.modules)

    with pytest.raises(ValueError, match=expected) as error:
        keras.models.load_model(crafted)

    assert set(sys.modules) - before == set()
    assert not planted.exists()
    assert "Received: function=" in str(error.value)
    if expected == REFUSED:
        assert "safe_mode=False" in str(error.value)
        assert "custom_objects" in str(error.value)


def test_legit_reference_loads_with_safe_mode_false_or_custom_objects(
    tmp_path, planted
):
    import coolkeras_test_plain_functions as plain

    inputs = keras.Input((2,))
    model = keras.Model(inputs, Function(plain.double)(inputs))
    path = tmp_path / "plain.keras"
    model.save(path)
    x = np.array([[1.0, -2.0]], "float32")

    with pytest.raises(ValueError, match=REFUSED):
        keras.models.load_model(path)
    for loaded in (
        keras.models.load_model(path, safe_mode=False),
        keras.models.load_model(path, custom_objects={"double": plain.double}),
    ):
        np.testing.assert_allclose(loaded.predict(x, verbose=0), [[2.0, -4.0]])
    with keras.saving.custom_object_scope({"double": plain.double}):
        loaded = keras.models.load_model(path)
    np.testing.assert_allclose(loaded.predict(x, verbose=0), [[2.0, -4.0]])
    assert not planted.exists()


@pytest.mark.parametrize(
    "function",
    [
        {"module": "keras.src.saving.saving_lib", "name": "os.system"},
        {"module": "__main__", "name": "__builtins__.exec"},
        {
            "module": "keras.src.saving.serialization_lib",
            "name": "importlib.import_module",
        },
        {"module": "tests.helpers", "name": "scale_and_shift.<locals>.inner"},
    ],
)
def test_safe_mode_false_resolves_only_through_classes(function, tmp_path):
    legit = legit_file(tmp_path)
    crafted = craft(legit, tmp_path / "crafted.keras", function, {})
    with pytest.raises(ValueError, match="not a class|not the module and qualified"):
        keras.models.load_model(crafted, safe_mode=False)


DEFINE_AND_SAVE = '''
"""Defines and registers a function in `__main__`, and saves a model using it."""
import sys
import warnings

import keras

from coolkeras.layers import Function


@keras.saving.register_keras_serializable(package="coolkeras_subprocess_test")
def shift_by(x, by=1.0):
    return x + by


if __name__ == "__main__":
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        inputs = keras.Input((3,))
        layer = Function(shift_by, arguments={"by": 0.5})
        model = keras.Model(inputs, layer(inputs))
    assert not [w for w in caught if "__main__" in str(w.message)]
    model.save(sys.argv[1])
'''

LOAD = """
import sys

import keras
import numpy as np

import coolkeras  # registers the `Function` layer class

if sys.argv[2] == "import":
    import define_and_save  # registers shift_by
model = keras.models.load_model(sys.argv[1])  # safe_mode=True
print(model.predict(np.arange(3, dtype="float32")[None], verbose=0).tolist())
"""


def run_python(folder: Path, *args: str) -> subprocess.CompletedProcess:
    env = dict(
        os.environ,
        KERAS_BACKEND=keras.backend.backend(),
        PYTHONPATH=os.pathsep.join([str(ROOT), str(folder)]),
    )
    return subprocess.run(
        [sys.executable, *args],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_registered_function_saved_in_one_process_loads_in_another(tmp_path):
    (tmp_path / "define_and_save.py").write_text(DEFINE_AND_SAVE)
    (tmp_path / "load.py").write_text(LOAD)
    path = str(tmp_path / "model.keras")

    saved = run_python(tmp_path, "define_and_save.py", path)
    assert saved.returncode == 0, saved.stderr
    loaded = run_python(tmp_path, "load.py", path, "import")
    assert loaded.returncode == 0, loaded.stderr
    assert json.loads(loaded.stdout.strip().splitlines()[-1]) == [[0.5, 1.5, 2.5]]

    unregistered = run_python(tmp_path, "load.py", path, "no-import")
    assert unregistered.returncode != 0
    assert "coolkeras_subprocess_test>shift_by" in unregistered.stderr
    assert "is not registered in this process" in unregistered.stderr
    assert "import that script as a module" in unregistered.stderr
