"tools/run_notebooks.py: stored outputs name folders as a reader knows them and carry no library warnings."
from pathlib import Path
import numpy as np
import pytest
from execnb.nbio import dict2nb
from conftest import load_tool

ROOT = Path(__file__).parents[1]

def _tool(): return load_tool('run_notebooks')

def _nb(*texts, html=None):
    cells = [{'cell_type': 'code', 'source': '', 'metadata': {}, 'outputs': [
        {'output_type': 'stream', 'name': 'stdout', 'text': t}]} for t in texts]
    if html: cells.append({'cell_type': 'code', 'source': '', 'metadata': {}, 'outputs': [
        {'output_type': 'execute_result', 'metadata': {}, 'data': {'text/html': html, 'text/plain': 'df'}}]})
    return dict2nb({'cells': cells, 'metadata': {}, 'nbformat': 4, 'nbformat_minor': 5})

def test_machine_paths_become_reader_names(tmp_path, monkeypatch):
    monkeypatch.setenv('FER_NB_CACHE', str(tmp_path/'cache'))
    tool, data, results = _tool(), tmp_path/'shared'/'fer2013.zip', tmp_path/'runs'
    names = tool.reader_names(str(data), str(results))
    nb = _nb(f"fer_nb mode: FULL · data: {data} · results in {results}\n",
             f"data: FER-2013 from {tmp_path/'cache'/'extracted'/'fer2013-1'} · not {results}-old\n",
             html=f"<td>{ROOT/'nbs'}</td>")
    tool.scrub(nb, names)
    texts = tool._texts(nb)
    assert texts[0] == "fer_nb mode: FULL · data: fer2013.zip · results in $FER_NB_RESULTS\n", texts[0]
    assert texts[1] == f"data: FER-2013 from ~/.cache/fer_nb/extracted/fer2013-1 · not {results}-old\n", texts[1]
    assert '<td>./nbs</td>' in texts  # whole path parts only: runs-old is another folder
    tool.check_full(nb, 'x.ipynb')
    with pytest.raises(SystemExit, match='shows'): tool.check_clean(nb, 'x.ipynb', names)  # ... left as it was

def test_temporary_folders_lose_their_random_names(tmp_path):
    "A folder made by tempfile (random name) is shown as <temporary folder>; one left in an output fails."
    import tempfile
    tool, names = _tool(), _tool().reader_names(str(tmp_path/'fer2013.zip'))
    with tempfile.TemporaryDirectory() as d:
        nb = _nb(f"wrote {d}/out/clip_emotions.csv and {d}\n", html=f"<td>{d}/fake</td>")
        with pytest.raises(SystemExit, match='shows'): tool.check_clean(nb, 'x.ipynb', names)
        tool.scrub(nb, names)
    texts = tool._texts(nb)
    assert texts[0] == "wrote <temporary folder>/out/clip_emotions.csv and <temporary folder>\n", texts[0]
    assert '<td><temporary folder>/fake</td>' in texts
    tool.check_clean(nb, 'x.ipynb', names)
    tool.check_clean(_nb(f"{tempfile.gettempdir()}/fer_nb_demo.txt\n"), 'x', names)  # a named file is not random

def test_leftover_paths_and_library_warnings_fail(tmp_path):
    tool = _tool()
    names = tool.reader_names(str(tmp_path/'fer2013.zip'))
    with pytest.raises(SystemExit, match='shows'):
        tool.check_clean(_nb(f"saved to {ROOT}/x.png\n"), 'x.ipynb', names)
    with pytest.raises(SystemExit, match='/home/'): tool.check_clean(_nb("see /home/ada/photos\n"), 'x', names)
    warn = "/venv/lib/python3.11/site-packages/keras/saving_lib.py:869: UserWarning: Skipping variable loading\n"
    with pytest.raises(SystemExit, match='UserWarning'):
        tool.check_clean(_nb(warn.replace('site-packages/', '')), 'x', names)
    with pytest.raises(SystemExit, match='site-packages'): tool.check_clean(_nb(warn), 'x', names)
    with pytest.raises(SystemExit, match='INFO:tensorflow:'):
        tool.check_clean(_nb("done\nINFO:tensorflow:Assets written to: <temporary folder>/assets\n"), 'x', names)
    with pytest.raises(SystemExit, match='Downloading data from'):
        tool.check_clean(_nb("Downloading data from https://storage.googleapis.com/x.h5\n"), 'x', names)
    tool.check_clean(_nb("WARNING: quick mode continues from RANDOM weights\n"), 'x', names)  # fer_nb's own words
    tool.check_clean(_nb("annotated copies in ~/photos and $FER_NB_RESULTS/x\n"), 'x', names)

def test_a_rerun_keeps_no_old_output(tmp_path):
    "execnb leaves a cell's outputs alone when it prints nothing now: `run` clears them first."
    from execnb.nbio import write_nb, read_nb
    tool = _tool()
    nb = _nb('fer_nb mode: FULL · data: fer2013\n', 'an output of an earlier version of the cell\n')
    nb.cells[0].source, nb.cells[1].source = "print('fer_nb mode: FULL · data: fer2013')", 'x = 1'
    write_nb(nb, tmp_path/'x.ipynb')
    tool.run(tmp_path/'x.ipynb', (), tool.reader_names(str(tmp_path/'fer2013.zip')))
    cells = read_nb(tmp_path/'x.ipynb').cells
    assert cells[1].outputs == [] and 'FULL' in ''.join(cells[0].outputs[0]['text'])

def test_a_quiet_cell_keeps_what_it_printed(tmp_path):
    "A cell ending in `;` (a plot's return value hidden) still stores its printed lines, as Jupyter shows them."
    from execnb.nbio import write_nb, read_nb
    tool = _tool()
    nb = _nb('', '', '')
    nb.cells[0].source = "print('fer_nb mode: FULL · data: fer2013')"
    nb.cells[1].source = "print('T = 2.51'); 6*7;"
    nb.cells[2].source = "6*7"
    write_nb(nb, tmp_path/'x.ipynb')
    tool.run(tmp_path/'x.ipynb', (), tool.reader_names(str(tmp_path/'fer2013.zip')))
    quiet, loud = read_nb(tmp_path/'x.ipynb').cells[1:]
    assert [(o['output_type'], ''.join(o.get('text', ''))) for o in quiet.outputs] == [('stream', 'T = 2.51\n')]
    assert [o['output_type'] for o in loud.outputs] == ['execute_result'] and ''.join(loud.outputs[0]['data']['text/plain']) == '42'

def test_stored_notebooks_show_no_library_noise():
    "Every notebook in nbs/ as committed passes the tool's check for warnings, loggers, download notices and paths."
    from execnb.nbio import read_nb
    tool = _tool()
    for p in sorted((ROOT/'nbs').glob('*.ipynb')): tool.check_clean(read_nb(p), p.name, {})

def test_a_folder_that_is_not_the_whole_fer2013_is_refused(tmp_path):
    "A full-mode run on a FER-2013-shaped subset (its data line says so) is not stored as evidence."
    from fer_nb.data import FERData
    empty = np.zeros((0, 48, 48), np.uint8)
    line = FERData(empty, np.zeros(0, int), np.array([]), empty, np.zeros(0, int), np.array([]), source='folder').describe()
    nb = _nb("fer_nb mode: FULL (set explicitly) · data: fer2013_small.zip · results in $FER_NB_RESULTS\n", line + '\n')
    with pytest.raises(SystemExit, match='not the whole FER-2013'): _tool().check_full(nb, 'x.ipynb')
