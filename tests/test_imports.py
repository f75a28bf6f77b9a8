"The package's import graph: no cycles (imports inside functions count too), and no runtime module imports `testing`."
import ast
from pathlib import Path

PKG = Path(__file__).resolve().parents[1]/'fer_nb'


def _targets(node:ast.AST, mod:str) -> set:
    "fer_nb modules that one import statement in module `mod` names."
    if isinstance(node, ast.Import):
        return {a.name.split('.')[1] for a in node.names if a.name.startswith('fer_nb.')}
    if isinstance(node, ast.ImportFrom):
        if node.level:  # from .x import y, or from . import x
            return {node.module.split('.')[0]} if node.module else {a.name for a in node.names}
        if node.module == 'fer_nb': return {a.name for a in node.names}
        if node.module and node.module.startswith('fer_nb.'): return {node.module.split('.')[1]}
    return set()


def import_graph(pkg:Path=PKG) -> dict:
    "`{module: {fer_nb modules it imports anywhere in its code}}` for every module of the package."
    mods = {p.stem for p in pkg.glob('*.py')}
    graph = {}
    for p in sorted(pkg.glob('*.py')):
        names = set()
        for node in ast.walk(ast.parse(p.read_text())): names |= _targets(node, p.stem)
        graph[p.stem] = {n for n in names if n in mods and n != p.stem}
    return graph


def cycles(graph:dict) -> list:
    "Every cycle in `graph`, each as the list of modules along it (found by depth-first search)."
    found, state = [], {}
    def visit(n, path):
        state[n] = 'open'
        for m in sorted(graph.get(n, ())):
            if state.get(m) == 'open': found.append(path[path.index(m):] + [m])
            elif m not in state: visit(m, path + [m])
        state[n] = 'done'
    for n in sorted(graph):
        if n not in state: visit(n, [n])
    return found


def test_cycle_finder_finds_cycles():
    assert cycles({'a': {'b'}, 'b': {'c'}, 'c': {'a'}}) == [['a', 'b', 'c', 'a']]
    assert cycles({'a': {'b'}, 'b': set()}) == []
    tree = ast.parse("def f():\n    from fer_nb.course import build\nfrom .data import x\nimport fer_nb.models")
    assert set().union(*(_targets(n, 'm') for n in ast.walk(tree))) == {'course', 'data', 'models'}


def test_no_import_cycles():
    graph = import_graph()
    assert len(graph) > 10, graph  # the package was found and parsed
    assert cycles(graph) == []


def test_runtime_code_never_imports_testing():
    users = sorted(m for m, deps in import_graph().items() if 'testing' in deps)
    assert users == [], f"runtime modules importing fer_nb.testing: {users}"
