"The README (generated from nbs/index.ipynb) and CI agree on the test command."
from pathlib import Path
ROOT = Path(__file__).parents[1]

def _last_line(path): return [l for l in (ROOT/path).read_text().splitlines() if l.strip() and not l.startswith('#')][-1]

def test_ci_runs_the_readme_test_command():
    cmd = _last_line('.ci/run')
    assert cmd.startswith('pip install') and 'pytest' in cmd
    assert f'```sh\n{cmd}\n```' in (ROOT/'README.md').read_text()

def test_readme_has_two_quickstart_commands():
    readme = (ROOT/'README.md').read_text()
    assert '```sh\npip install -e . && fer-nb course\n```' in readme

def test_readme_is_generated_from_index_notebook():
    import importlib.util
    spec = importlib.util.spec_from_file_location('make_readme', ROOT/'tools'/'make_readme.py')
    m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m)
    assert (ROOT/'README.md').read_text() == m.render(ROOT/'nbs'/'index.ipynb'), 'run: python tools/make_readme.py'

def test_readme_lists_every_notebook_once():
    "The reading-order table links every notebook in nbs/ (a new notebook without a row fails here)."
    import re
    readme = (ROOT/'README.md').read_text()
    linked = re.findall(r'\]\(nbs/(\w+\.ipynb)\)', readme)
    nbs = sorted(p.name for p in (ROOT/'nbs').glob('*.ipynb') if p.name != 'index.ipynb')
    assert sorted(set(linked)) == nbs and len(linked) == len(set(linked))
