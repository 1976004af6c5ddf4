"""Imports between vaesae's subpackages point one way: a cycle fails this test.

Every ``import`` in vaesae's source is read with ``ast`` (also those inside
functions and ``TYPE_CHECKING`` blocks: a late import still ties the packages
together), reduced to subpackage -> subpackage, and the graph must be acyclic.
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "vaesae"


def unit_of(module: str) -> str | None:
    """``vaesae.tasks.train`` -> ``tasks``; top-level modules (``vaesae.app``) are their own unit."""
    parts = module.split(".")
    if parts[0] != "vaesae" or len(parts) < 2:
        return None
    return parts[1]


def module_name(path: Path) -> str:
    relative = path.relative_to(PACKAGE.parent).with_suffix("")
    parts = list(relative.parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    here = module_name(path).split(".")
    package = here if path.name == "__init__.py" else here[:-1]
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            module = ".".join([*base, *(node.module.split(".") if node.module else [])])
            found.add(module)
            found.update(f"{module}.{alias.name}" for alias in node.names)
    return found


def package_graph() -> dict[str, set[str]]:
    """Subpackage -> the other subpackages (and top-level modules) its modules import."""
    graph: dict[str, set[str]] = {}
    for path in PACKAGE.rglob("*.py"):
        source = unit_of(module_name(path))
        if source is None:
            continue
        targets = {unit_of(m) for m in imported_modules(path)} - {None, source}
        graph.setdefault(source, set()).update(t for t in targets if (PACKAGE / t).is_dir() or (PACKAGE / f"{t}.py").is_file())
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of ``graph`` as a path that returns to its start, or None."""
    state: dict[str, str] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = "open"
        stack.append(node)
        for target in sorted(graph.get(node, ())):
            if state.get(target) == "open":
                return stack[stack.index(target):] + [target]
            if target not in state:
                cycle = visit(target)
                if cycle:
                    return cycle
        state[node] = "done"
        stack.pop()
        return None

    for node in sorted(graph):
        if node not in state:
            cycle = visit(node)
            if cycle:
                return cycle
    return None


def test_cycle_finder_finds_a_cycle_and_accepts_a_chain():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": set()}) is None


def test_modules_map_to_their_subpackage():
    assert unit_of("vaesae.tasks.train") == "tasks" and unit_of("torch.nn") is None


LAYERS = {
    "errors": 0, "registry": 0,
    "config": 1, "demo_data": 1, "data": 1, "models": 1, "losses": 1, "atomic_files": 1, "contained_paths": 1,
    "engine": 2, "run_lock": 3, "tasks": 3,
    "tracking": 4, "report": 4, "sweep": 4, "output_check": 4,
    "app": 5, "cli_args": 5, "console": 6, "__main__": 6,
}
SIDEWAYS = {("registry", "errors"), ("losses", "models"), ("models", "data"), ("config", "demo_data"),
            ("demo_data", "data"), ("tracking", "report"), ("tracking", "sweep"), ("__main__", "console"), ("app", "cli_args")}


def test_every_import_points_down_the_layers_of_architecture_md():
    graph = package_graph()
    assert set(graph) <= set(LAYERS), f"place new subpackages in ARCHITECTURE.md and LAYERS: {set(graph) - set(LAYERS)}"
    upward = sorted((source, target) for source, targets in graph.items() for target in targets
                    if LAYERS[target] >= LAYERS[source] and (source, target) not in SIDEWAYS)
    assert not upward, f"imports against the layering: {upward}"


def test_no_import_cycle_between_subpackages():
    graph = package_graph()
    cycle = find_cycle(graph)
    assert cycle is None, f"import cycle between vaesae's subpackages: {' -> '.join(cycle)}"


PICTURE_PLUGIN = '''
from pathlib import Path

from vaesae import register_model
from vaesae.models.vae import VAE


def draw_rows(view, options, folder: Path) -> list[Path]:
    path = folder / "plugin_rows.txt"
    path.write_text(f"{type(view.model).__name__} on {view.loader.num_rows} rows")
    return [path]


@register_model("PictureVAE")
class PictureVAE(VAE):
    figures = ("picture_plugin:draw_rows",)
'''


@pytest.mark.slow
def test_a_plugin_model_draws_the_pictures_it_names(cli, workdir):
    (workdir / "plugins").mkdir()
    (workdir / "plugins" / "picture_plugin.py").write_text(PICTURE_PLUGIN)
    result = cli("--config-dir", "plugins", "plugins=[picture_plugin]", "model.class=PictureVAE",
                 "train.epochs=1", "experiment.device=cpu")
    assert result.returncode == 0, result.stdout + result.stderr
    figures = workdir / "experiments/vae/demo/figures"
    assert (figures / "plugin_rows.txt").read_text().startswith("PictureVAE on ")
    assert (figures / "loss_curves.png").is_file() and not (figures / "vae_latent_kl.png").exists()
