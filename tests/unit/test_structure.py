"""The drawn structure of server/ holds (docs/decisions.md, "Structure (issue 9)").

Read from the source with `ast` (nothing is imported):
- every module has a layer, and imports only from its own layer or below;
- no import cycles between modules;
- the pure layer imports no Redis, Starlette, uvicorn or Jinja2, directly or through the
  server modules it imports;
- no module over 300 lines, no class over 150.
"""

from __future__ import annotations

import ast
from fnmatch import fnmatch
from functools import cache
from pathlib import Path

import pytest

SERVER = Path(__file__).resolve().parents[2] / "server"

# Lowest first. A name may be a pattern: a module split in parts keeps its layer
# (store_*.py, a store/ package: "store*").
LAYERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    # Plain Python: rules, the shapes each role sees, events and how to apply them,
    # results, texts, key names, wire framing. Tested without a server.
    ("pure", ("errors", "keys", "i18n*", "language*", "config", "rules*", "events*",
              "view*", "results", "room*", "fanout*", "protocol", "exports", "qr",
              "apply*", "client_state*", "limits", "args", "ids", "text", "votes",
              "workshop_settings", "feed", "phone_batches", "backoff", "shared_loads",
              "metrics", "log_format", "sorting*", "plan_*")),
    # The store: every Redis key and command, and the embedded Valkey.
    ("store", ("store*", "batcher", "embedded*", "valkey_*", "ratelimit*")),
    # What serves the sockets and the pages, on top of the store.
    ("services", ("hub*", "presence*", "control*", "phone_window*", "admission*",
                  "session*", "socket*", "catchup", "op_loop", "api*", "pages*",
                  "page_*", "rendering", "error_pages", "report*", "security*", "lan",
                  "metrics_http",
                  # The sorting help's questions and its worker thread (issue 11).
                  "suggestions", "sort_worker")),
    # Wiring it together, and the command line.
    ("app", ("app", "__main__")),
)
PURE_LAYER = "pure"
# What a pure module may not reach, even through another module.
IMPURE = ("redis", "starlette", "uvicorn", "jinja2", "websockets")

MAX_MODULE_LINES = 300
MAX_CLASS_LINES = 150

def module_name(path: Path) -> str:
    rel = path.relative_to(SERVER).with_suffix("")
    parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
    return ".".join(parts)


@cache
def modules() -> dict[str, Path]:
    found = {module_name(p): p for p in sorted(SERVER.rglob("*.py"))}
    found.pop("", None)     # server/__init__.py: the package itself
    return found


@cache
def imports(name: str) -> tuple[frozenset[str], frozenset[str]]:
    """(server modules, top-level outside packages) that `name` imports."""
    tree = ast.parse(modules()[name].read_text("utf-8"))
    inside: set[str] = set()
    outside: set[str] = set()
    package = name.split(".")[:-1] if modules()[name].name != "__init__.py" else name.split(".")

    def add_server(dotted: str) -> None:
        # The longest known module that the dotted name starts with.
        parts = dotted.split(".")
        for end in range(len(parts), 0, -1):
            candidate = ".".join(parts[:end])
            if candidate in modules():
                if candidate != name:
                    inside.add(candidate)
                return

    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name == "server" or alias.name.startswith("server."):
                    add_server(alias.name.removeprefix("server").lstrip("."))
                else:
                    outside.add(alias.name.split(".")[0])
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = ".".join(package[: len(package) - node.level + 1])
                dotted = ".".join(x for x in (base, node.module or "") if x)
            elif node.module and (node.module == "server" or node.module.startswith("server.")):
                dotted = node.module.removeprefix("server").lstrip(".")
            else:
                outside.add((node.module or "").split(".")[0])
                continue
            # `from server import rules` names modules; `from server.rules import X`
            # names the module itself.
            for alias in node.names:
                add_server(f"{dotted}.{alias.name}" if dotted else alias.name)
    return frozenset(inside), frozenset(outside)


def layer_of(name: str) -> int | None:
    top = name.split(".")[0]
    for index, (_, patterns) in enumerate(LAYERS):
        if any(fnmatch(top, pattern) for pattern in patterns):
            return index
    return None


# ---------------------------------------------------------------------------- layers
def test_every_module_has_a_layer() -> None:
    missing = [name for name in modules() if layer_of(name) is None]
    assert not missing, f"give these modules a layer in LAYERS: {missing}"


def deps(name: str) -> set[str]:
    """The server modules `name` imports."""
    return set(imports(name)[0])


@pytest.mark.parametrize("name", sorted(modules()))
def test_no_upward_import(name: str) -> None:
    mine = layer_of(name)
    if mine is None:
        pytest.skip("no layer (see test_every_module_has_a_layer)")
    upward = {dep: LAYERS[layer][0] for dep in deps(name)
              if (layer := layer_of(dep)) is not None and layer > mine}
    assert not upward, f"{name} ({LAYERS[mine][0]}) imports from a higher layer: {upward}"


@pytest.mark.parametrize("name", [name for name in sorted(modules())
                                  if (layer := layer_of(name)) is not None
                                  and LAYERS[layer][0] == PURE_LAYER])
def test_pure_modules_reach_no_io(name: str) -> None:
    seen: set[str] = set()
    todo = [name]
    reached: dict[str, str] = {}    # the outside package -> the module that imports it
    while todo:
        current = todo.pop()
        if current in seen:
            continue
        seen.add(current)
        for package in imports(current)[1]:
            if package in IMPURE:
                reached.setdefault(package, current)
        todo.extend(deps(current))
    assert not reached, f"{name} reaches {reached} (package: through module)"


def test_no_import_cycles() -> None:
    graph = {name: deps(name) for name in modules()}
    cycles: list[list[str]] = []
    state: dict[str, int] = {}      # 1: on the path, 2: done
    path: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        path.append(node)
        for dep in sorted(graph[node]):
            if state.get(dep) == 1:
                cycles.append([*path[path.index(dep):], dep])
            elif dep not in state:
                visit(dep)
        path.pop()
        state[node] = 2

    for name in sorted(graph):
        if name not in state:
            visit(name)
    assert not cycles, "import cycles: " + "; ".join(" -> ".join(c) for c in cycles)


# ----------------------------------------------------------------------------- sizes


def test_no_module_over_300_lines() -> None:
    long = {name: n for name, path in modules().items()
            if (n := len(path.read_text("utf-8").splitlines())) > MAX_MODULE_LINES}
    assert not long, f"modules over {MAX_MODULE_LINES} lines: {long}"


def test_no_class_over_150_lines() -> None:
    long: dict[str, int] = {}
    for name, path in modules().items():
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.ClassDef):
                size = (node.end_lineno or node.lineno) - node.lineno + 1
                if size > MAX_CLASS_LINES:
                    long[f"{name}.{node.name}"] = size
    assert not long, f"classes over {MAX_CLASS_LINES} lines: {long}"


# ---------------------------------------------------- the reader itself (it can fail)
def test_the_reader_sees_the_imports_it_must() -> None:
    """Guards the checks above against a reader that sees nothing: known edges."""
    inside, outside = imports("store_core")
    assert "keys" in inside and "redis" in outside
    assert "rules" in imports("config")[0]
    assert {"app", "config"} <= imports("__main__")[0]
    assert layer_of("store_scripts") == layer_of("store")
    assert len(modules()) >= 20
