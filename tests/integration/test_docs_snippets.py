"""Every code block of the docs runs, on the backend under test, and fits the page.

The pages are found, not listed: every `docs/**/*.md` and `README.md`, with
`--8<-- "FILE"` lines (pymdownx.snippets) replaced by the file they include.

Each fenced ```` ```python ```` block runs; the blocks of one page run in order
in one namespace, so a block may use what an earlier block of its page defined.
A page runs in a fresh temporary working directory, with `__name__` set to
`"__main__"`, as a script pasted from the page would. Any exception fails the
page's test, with a traceback that names the page and its line.

A block that must not run as written is marked by an HTML comment on the line
right before its opening fence (invisible on the rendered page):

- `<!-- docs-test: skip REASON -->`: not run (Keras 2 code shown for
  comparison, code that needs several devices). The reason is required.
- `<!-- docs-test: raises NAME -->`: must raise the exception `NAME` (a builtin
  name such as `TypeError`, or a dotted path); not raising fails the test.
  This is how a page shows a Keras 3 failure and keeps the claim true.
- `<!-- docs-test: backend NAME -->`: runs only under `KERAS_BACKEND=NAME`
  (code that exists on one backend only, as `tf.distribute`).

A marker anywhere else (not followed by a ```` ```python ```` fence), or one
with another keyword, fails the test, so a typo cannot silently skip a block.
Every line of every fenced block, in any language, is at most 88 characters,
the width a page shows without scrolling; in a block that stands in one column
of a two-column `<div class="grid" markdown>` (Keras 2 and coolkeras side by
side), at most 56. Both widths were measured in headless Chromium, at 1280 px
with the site's stylesheet (`docs/stylesheets/extra.css`).
"""

from __future__ import annotations

import builtins
import importlib
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import keras
import pytest

ROOT = Path(__file__).resolve().parents[2]
MAX_LINE = 88
MAX_GRID_LINE = 56
GRID_START = re.compile(r'^\s*<div class="grid"')
GRID_END = re.compile(r"^\s*</div>\s*$")
KEYWORDS = ("skip", "raises", "backend")
# Pages that set up devices run in a fresh interpreter (JAX reads `XLA_FLAGS`,
# and TensorFlow takes its logical devices, only before they start), with what
# their output must say on each backend: that several devices trained.
OWN_PROCESS = {
    "docs/scaling-out.md": {"jax": "4 devices;", "tensorflow": "2 replicas;"},
}
FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})(?P<info>.*)$")
MARKER = re.compile(r"^\s*<!--\s*docs-test:\s*(?P<body>.*?)\s*-->\s*$")
INCLUDE = re.compile(r'^\s*--8<--\s+"(?P<path>[^"]+)"\s*$')


@dataclass
class Block:
    """One fenced code block: where it starts, its language, code and marker."""

    line: int  # 1-based line number of the first code line
    language: str
    code: str
    marker: tuple[str, str] | None = None
    in_grid: bool = False  # one column of a side-by-side grid


def pages() -> list[Path]:
    """Every page of the site and the README, in a stable order."""
    return sorted((ROOT / "docs").rglob("*.md")) + [ROOT / "README.md"]


def page_text(page: Path) -> str:
    """The page's Markdown, with pymdownx.snippets includes expanded."""
    lines = []
    for line in page.read_text(encoding="utf-8").splitlines():
        match = INCLUDE.match(line)
        if match:
            lines.extend(
                (ROOT / match["path"]).read_text(encoding="utf-8").splitlines()
            )
        else:
            lines.append(line)
    return "\n".join(lines) + "\n"


def parse_marker(body: str, where: str) -> tuple[str, str]:
    keyword, _, argument = body.partition(" ")
    argument = argument.strip()
    if keyword not in KEYWORDS:
        raise ValueError(
            f"{where}: unknown docs-test marker {keyword!r}; "
            f"use one of {', '.join(KEYWORDS)}"
        )
    if not argument:
        raise ValueError(f"{where}: `docs-test: {keyword}` needs an argument")
    return keyword, argument


def blocks(text: str, name: str = "<page>") -> list[Block]:
    """The fenced code blocks of a Markdown text, with their markers.

    Raises:
        ValueError: for an unclosed fence, a bad marker, or a marker that does
            not stand right before a ```` ```python ```` fence.
    """
    found: list[Block] = []
    lines = text.splitlines()
    pending: tuple[int, tuple[str, str]] | None = None
    in_grid = False
    index = 0
    while index < len(lines):
        line = lines[index]
        if GRID_START.match(line):
            in_grid = True
        elif GRID_END.match(line):
            in_grid = False
        marker = MARKER.match(line)
        fence = FENCE.match(line)
        if pending is not None and not fence:
            raise ValueError(
                f"{name}:{pending[0]}: a docs-test marker must stand on the line "
                "right before a ```python fence"
            )
        if marker:
            pending = (index + 1, parse_marker(marker["body"], f"{name}:{index + 1}"))
        elif fence:
            indent, delimiter = fence["indent"], fence["fence"]
            language = (fence["info"].strip().split() or [""])[0].strip("{}.")
            body: list[str] = []
            index += 1
            while index < len(lines) and lines[index].strip() != delimiter:
                # A fence indented in a list item: its lines carry the indent.
                body.append(lines[index].removeprefix(indent))
                index += 1
            if index == len(lines):
                raise ValueError(f"{name}:{index}: a code fence is never closed")
            start = index - len(body) + 1
            if pending is not None and language != "python":
                raise ValueError(
                    f"{name}:{pending[0]}: a docs-test marker stands before a "
                    f"```{language} block; only python blocks run"
                )
            code = "\n".join(body) + "\n"
            marker = pending and pending[1]
            found.append(Block(start, language, code, marker, in_grid))
            pending = None
        index += 1
    if pending is not None:
        raise ValueError(f"{name}:{pending[0]}: a docs-test marker ends the page")
    return found


def exception_type(name: str) -> type[BaseException]:
    if "." not in name:
        found = getattr(builtins, name, None)
    else:
        module, _, attribute = name.rpartition(".")
        found = getattr(importlib.import_module(module), attribute, None)
    if not (isinstance(found, type) and issubclass(found, BaseException)):
        raise ValueError(f"`docs-test: raises {name}` names no exception type")
    return found


def runs_on(block: Block, backend: str) -> bool:
    """Whether `run_blocks` runs `block` under `backend`."""
    keyword, argument = block.marker or ("", "")
    return (
        block.language == "python"
        and keyword != "skip"
        and not (keyword == "backend" and argument != backend)
    )


def run_blocks(found: list[Block], name: str, backend: str) -> int:
    """Runs the python blocks in order in one namespace; returns how many ran.

    The code is compiled with the page's own line numbers, so a traceback
    names `name` and the line of the page that failed.
    """
    namespace = {"__name__": "__main__", "__builtins__": builtins}
    ran = 0
    for block in found:
        if not runs_on(block, backend):
            continue
        keyword, argument = block.marker or ("", "")
        code = compile("\n" * (block.line - 1) + block.code, name, "exec")
        if keyword == "raises":
            expected = exception_type(argument)
            try:
                exec(code, namespace)
            except expected:
                pass
            else:
                raise AssertionError(
                    f"{name}:{block.line}: the block is marked `raises "
                    f"{argument}` but ran without raising it"
                )
        else:
            exec(code, namespace)
        ran += 1
    return ran


def page_id(page: Path) -> str:
    return str(page.relative_to(ROOT))


def run_page(path: str) -> int:
    """Runs the page at `path` (relative to the repository) here; returns blocks run."""
    page = ROOT / path
    found = blocks(page_text(page), path)
    return run_blocks(found, path, keras.backend.backend())


def run_page_in_own_process(path: str, folder: Path) -> str:
    """Runs the page at `path` in a fresh interpreter in `folder`; returns stdout."""
    code = (
        "import sys\n"
        "from tests.integration.test_docs_snippets import run_page\n"
        "run_page(sys.argv[1])\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "3"}
    done = subprocess.run(
        [sys.executable, "-c", code, path],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, f"{path} failed:\n{done.stderr[-6000:]}"
    return done.stdout


@pytest.fixture
def clean_keras_state(tmp_path, monkeypatch):
    """A fresh working directory; Keras' global state restored after the page."""
    monkeypatch.chdir(tmp_path)
    registry = keras.saving.get_custom_objects()
    saved_registry = dict(registry)
    policy = keras.config.dtype_policy()
    yield
    registry.clear()
    registry.update(saved_registry)
    keras.config.set_dtype_policy(policy)
    if keras.backend.backend() == "jax":
        keras.distribution.set_distribution(None)
    keras.backend.clear_session(free_memory=False)  # no 0.5-1 s gc.collect per page


def long_lines(text: str, name: str) -> list[str]:
    """`page:line: N characters` for each code line wider than its column."""
    return [
        f"{name}:{block.line + offset}: {len(line)} characters (at most {limit})"
        for block in blocks(text, name)
        for limit in [MAX_GRID_LINE if block.in_grid else MAX_LINE]
        for offset, line in enumerate(block.code.splitlines())
        if len(line) > limit
    ]


@pytest.mark.parametrize("page", pages(), ids=page_id)
def test_every_code_line_fits_the_page(page):
    too_long = long_lines(page_text(page), page_id(page))
    assert not too_long, "code lines too long:\n" + "\n".join(too_long)


def has_python(page: Path) -> bool:
    """Whether the page has a python block; a page that does not parse counts,
    so that its own test fails with the parse error (not the whole module)."""
    try:
        return any(block.language == "python" for block in blocks(page_text(page)))
    except ValueError:
        return True


@pytest.mark.parametrize("page", [p for p in pages() if has_python(p)], ids=page_id)
def test_page_code_runs(page, clean_keras_state, tmp_path):
    name, backend = page_id(page), keras.backend.backend()
    found = blocks(page_text(page), name)
    if not any(runs_on(block, backend) for block in found):
        pytest.skip(f"no block of {name} runs on {backend}")
    if name in OWN_PROCESS:
        output = run_page_in_own_process(name, tmp_path)
        assert OWN_PROCESS[name][backend] in output, output
    else:
        run_blocks(found, name, backend)


def test_pages_are_discovered():
    found = {page_id(page) for page in pages()}
    assert {"README.md", "docs/getting-started.md", "docs/scaling-out.md"} <= found
    assert any(name.startswith("docs/article/") for name in found)
    assert any(name.startswith("docs/pitfalls/") for name in found)


# The runner itself: a broken block fails, markers do what they say.

PAGE = """# A page

<!-- docs-test: skip Keras 2 code -->
```python
from keras import backend as K
K.in_train_phase(1, 2)
```

```python
value = 1 + 1
```

<!-- docs-test: raises ZeroDivisionError -->
```python
value / 0
```

- In a list:

    ```python
    assert value == 2
    ```

<!-- docs-test: backend no-such-backend -->
```python
raise RuntimeError("runs on another backend only")
```

```bash
echo "not python"
```
"""


def test_runner_runs_blocks_in_one_namespace_and_honours_markers():
    found = blocks(PAGE)
    assert [b.language for b in found] == ["python"] * 5 + ["bash"]
    assert found[0].marker == ("skip", "Keras 2 code")
    assert found[3].code == "assert value == 2\n"
    assert run_blocks(found, "page.md", keras.backend.backend()) == 3


def test_a_broken_block_fails_with_its_page_line():
    found = blocks("Text.\n\n```python\nx = 1\nundefined_name + x\n```\n")
    with pytest.raises(NameError) as error:
        run_blocks(found, "broken.md", "jax")
    frame = error.traceback[-1]
    assert (str(frame.path), frame.lineno + 1) == ("broken.md", 5)


def test_a_block_marked_raises_fails_when_it_does_not_raise():
    found = blocks("<!-- docs-test: raises TypeError -->\n```python\nx = 1\n```\n")
    with pytest.raises(AssertionError, match="ran without raising"):
        run_blocks(found, "page.md", "jax")


@pytest.mark.parametrize(
    "text, message",
    [
        ("<!-- docs-test: skipp typo -->\n```python\nx\n```\n", "unknown"),
        ("<!-- docs-test: skip -->\n```python\nx\n```\n", "needs an argument"),
        ("<!-- docs-test: skip why -->\n\n```python\nx\n```\n", "right before"),
        ("<!-- docs-test: skip why -->\n```bash\nls\n```\n", "only python"),
        ("<!-- docs-test: skip why -->\n", "ends the page"),
        ("```python\nx = 1\n", "never closed"),
    ],
)
def test_a_misplaced_or_misspelled_marker_fails(text, message):
    with pytest.raises(ValueError, match=message):
        blocks(text)


def test_line_length_check_finds_a_long_line():
    text = "```text\n" + "x" * MAX_LINE + "\n" + "y" * (MAX_LINE + 1) + "\n```\n"
    assert long_lines(text, "long.md") == ["long.md:3: 89 characters (at most 88)"]


def test_line_length_check_is_narrower_in_a_grid_column():
    code = "```python\n" + "x" * MAX_GRID_LINE + "\n" + "y" * 57 + "\n```\n"
    text = f'<div class="grid" markdown>\n\n{code}\n</div>\n\n{code}'
    assert long_lines(text, "grid.md") == ["grid.md:5: 57 characters (at most 56)"]
