"tools/rehearse.py: one backend, one model, one epoch; every line says REHEARSAL and nothing counts as a result."
import json
from pathlib import Path
import pytest
from conftest import real_source, load_tool

ROOT = Path(__file__).parents[1]

def _tool(): return load_tool('rehearse')

def test_rehearsal_tensorflow(tmp_path, capsys, monkeypatch, real_cache):
    if real_source(): monkeypatch.setenv('FER_NB_CACHE', str(real_cache))  # FER-2013 decoded once, shared
    monkeypatch.setenv('FER_NB_PRECISION', 'float32')  # the tiniest settings: no bfloat16 emulation on a CPU
    s = _tool().main(['--backends', 'tensorflow', '--models', 'model5_compact', '--epochs', '1',
                      '--out', str(tmp_path/'rehearsal')])
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines and all(l.startswith('REHEARSAL') for l in lines), lines
    r = s['backends']['tensorflow']['models']['model5_compact']
    assert r['mode'] == 'rehearsal' and r['result'] is False and r['devices'] == ['cpu:0', 'cpu:1'], r
    rec = json.loads((tmp_path/'rehearsal'/'tensorflow'/'Model5_Compact'/'result.json').read_text())
    assert rec['result'] is False and 'REHEARSAL' in (tmp_path/'rehearsal'/'tensorflow'/'comparison.md').read_text()

def test_rehearsal_refuses_results_and_existing_folders(tmp_path):
    tool = _tool()
    with pytest.raises(SystemExit, match='already exists'): tool.check_out(tmp_path)
    with pytest.raises(SystemExit, match='results folder'): tool.check_out(ROOT/'results'/'new')

def test_run_notebooks_refuses_rehearsal():
    m = load_tool('run_notebooks')
    from execnb.nbio import dict2nb
    out = lambda t: {'cell_type': 'code', 'source': '', 'metadata': {}, 'outputs': [
        {'output_type': 'stream', 'name': 'stdout', 'text': t}]}
    nb = dict2nb({'cells': [out('fer_nb mode: FULL · data: fer2013\n'), out('REHEARSAL tensorflow: ...\n')],
                  'metadata': {}, 'nbformat': 4, 'nbformat_minor': 5})
    with pytest.raises(SystemExit, match='REHEARSAL'): m.check_full(nb, 'x.ipynb')
