"The README (generated from nbs/index.ipynb) and CI agree on the test command."
from pathlib import Path
ROOT = Path(__file__).parents[1]

def _last_line(path): return [l for l in (ROOT/path).read_text().splitlines() if l.strip() and not l.startswith('#')][-1]

def test_ci_runs_the_readme_test_command():
    cmd = _last_line('.ci/run')
    assert cmd.startswith('pip install') and 'pytest' in cmd
    assert f'```sh\n{cmd}\n```' in (ROOT/'README.md').read_text()

def test_readme_quick_start_is_two_commands():
    "The README's first two commands: install and run the course on the embedded default; install and pass the tests."
    import re
    blocks = re.findall(r'```sh\n(.*?)\n```', (ROOT/'README.md').read_text(), re.S)
    assert blocks[:2] == ['pip install -e . && fer-nb course', _last_line('.ci/run')], blocks[:2]

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

def test_readme_states_tested_versions_the_requirements_allow():
    "The Python and Keras versions the README says were tested satisfy settings.ini's `min_python` and keras pin."
    import re, configparser
    from packaging.specifiers import SpecifierSet
    from packaging.version import Version
    ini = configparser.ConfigParser(delimiters=['=']); ini.read(ROOT/'settings.ini')
    keras_req = next(r for r in ini['DEFAULT']['requirements'].split() if r.startswith('keras'))
    assert keras_req == 'keras>=3.9,<4'
    m = re.search(r'Tested with Python (\d+\.\d+\.\d+), Keras (\d+\.\d+\.\d+)', (ROOT/'README.md').read_text())
    assert m, 'README.md must say: Tested with Python X.Y.Z, Keras X.Y.Z'
    assert Version(m[1]) >= Version(ini['DEFAULT']['min_python']) and Version(m[2]) in SpecifierSet(keras_req[len('keras'):])

def test_license_and_backend_extras(monkeypatch):
    "LICENSE is the Apache-2.0 text settings.ini declares; `[jax]` and `[torch]` extras install those backends."
    import configparser, setuptools
    from unittest.mock import patch
    text = (ROOT/'LICENSE').read_text()
    assert 'Apache License' in text and 'Version 2.0, January 2004' in text and 'END OF TERMS AND CONDITIONS' in text
    ini = configparser.ConfigParser(delimiters=['=']); ini.read(ROOT/'settings.ini')
    assert ini['DEFAULT']['license'] == 'apache2'
    monkeypatch.chdir(ROOT)  # setup.py reads settings.ini and README.md from the working folder
    with patch.object(setuptools, 'setup') as setup:
        exec(compile((ROOT/'setup.py').read_text(), 'setup.py', 'exec'), {'__name__': '__main__'})
    kw = setup.call_args.kwargs
    assert kw['extras_require']['jax'] == ['jax'] and kw['extras_require']['torch'] == ['torch']
    assert 'keras>=3.9,<4' in kw['install_requires'] and kw['license'] == 'Apache Software License 2.0'
