"The shipped model (`fer_nb.pretrained.SHIPPED`) is inside the package, loads offline, and classifies FER-2013 as its results file records."
import json, subprocess, sys, zipfile
from pathlib import Path
import numpy as np, pytest
from conftest import real_source

ROOT = Path(__file__).parents[1]

def test_shipped_weights_load_and_predict_offline():
    from fer_nb.pretrained import pretrained, pretrained_path
    assert pretrained_path().is_file() and pretrained_path().stat().st_size <= 8*2**20
    m = pretrained()
    x = np.random.default_rng(0).integers(0, 256, (5, 48, 48, 1)).astype('uint8')
    p = np.asarray(m.predict(x, verbose=0))
    assert p.shape == (5, 7) and np.allclose(p.sum(1), 1, atol=1e-4)
    assert m.count_params() <= 3_000_000 and all(w.dtype == 'float32' for w in m.weights)

def test_missing_weights_is_a_one_line_error(monkeypatch):
    import fer_nb.pretrained as fm
    monkeypatch.setattr(fm, 'pretrained_path', lambda: Path('/nonexistent')/fm.PRETRAINED)
    with pytest.raises(fm.ModelUnavailable) as e: fm.pretrained()
    assert f'fer-nb train {fm.SHIPPED}' in str(e.value) and '\n' not in str(e.value)

def test_a_built_wheel_carries_the_weights(tmp_path):
    "What `pip install` installs: the wheel holds the shipped weights and their calibration record."
    from fer_nb.pretrained import SHIPPED
    p = subprocess.run([sys.executable, '-m', 'pip', 'wheel', '--no-deps', '--no-build-isolation', '-q', '-w', str(tmp_path), str(ROOT)],
                       capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, p.stderr[-2000:]
    names = zipfile.ZipFile(next(tmp_path.glob('fer_nb-*.whl'))).namelist()
    # the shipped weights and their calibration record (fer_nb.calibration), and no other model
    shipped = {f'fer_nb/weights/{SHIPPED}.{x}' for x in ('keras', 'json')}
    assert {n for n in names if n.startswith('fer_nb/weights/')} == shipped

@pytest.mark.skipif(not real_source(), reason='set FER2013_ZIP or FER2013_DIR to test on the real FER-2013')
def test_shipped_model_scores_what_its_results_file_records(real_cache, monkeypatch):
    monkeypatch.setenv('FER_NB_CACHE', str(real_cache))
    from fer_nb.config import Config
    from fer_nb.datasets import load_data
    from fer_nb.evaluation import predict_probs
    from fer_nb.pretrained import pretrained, SHIPPED
    rec = json.loads((ROOT/'results'/f'{SHIPPED}.json').read_text())
    d = load_data(Config(mode='full', data=real_source()), verbose=False)
    # plain, one view per face, as `fer-nb predict` classifies; the recorded TTA multiplies the time by its views
    acc = float((predict_probs(pretrained(), d.x_test[..., None], 256).argmax(1) == d.y_test).mean())
    assert acc >= 0.66
    assert abs(acc - rec['plain_test_accuracy']) <= 0.005, (acc, rec['plain_test_accuracy'])  # float32; bf16 trained

def test_the_package_ships_one_model():
    "fer_nb/weights holds the shipped model's weights and calibration record only: a switch of SHIPPED leaves no stale file."
    from fer_nb.pretrained import SHIPPED, pretrained_path
    assert sorted(p.name for p in pretrained_path().parent.iterdir()) == [f'{SHIPPED}.json', f'{SHIPPED}.keras']

def test_the_shipped_weights_say_how_they_were_trained():
    "Beside the weights, in the installed package: the command, seed, split, epochs and hardware of the shipped run."
    from fer_nb.calibration import read_record, sha256
    from fer_nb.pretrained import SHIPPED, pretrained_path
    rec = read_record(pretrained_path())
    assert 'training' in rec, 'remake the record with `python tools/calibrate_shipped.py`'
    assert rec['model'] == SHIPPED and rec['weights_sha256'] == sha256(pretrained_path())  # made for these weights
    run, t = json.loads((ROOT/'results'/f'{SHIPPED}.json').read_text()), rec['training']
    assert f'fer-nb train {SHIPPED} --mode full' in t['command'] and t['record'] == f'results/{SHIPPED}.json'
    for k in ('seed', 'n_train', 'n_val', 'epochs_run', 'best_epoch', 'hardware', 'precision', 'plain_test_accuracy'):
        assert t[k] == run[k], k
    assert t['train_seconds'] or t['timing_note']  # its time, or why there is none

def test_training_record_names_its_run_and_refuses_what_is_not_a_result(tmp_path):
    from conftest import load_tool
    tool, res = load_tool('calibrate_shipped'), tmp_path/'results'
    res.mkdir()
    with pytest.raises(SystemExit, match='missing'): tool.training_record('m', tmp_path)
    run = {'result': True, 'mode': 'full', 'data': 'fer2013', 'seed': 7, 'precision': 'float32', 'epochs_run': 3}
    (res/'m.json').write_text(json.dumps(run))
    t = tool.training_record('m', tmp_path)
    assert t['command'] == 'FER_NB_PRECISION=float32 fer-nb train m --mode full --data fer2013.zip --seed 7'
    assert (t['record'], t['epochs_run'], t['seed']) == ('results/m.json', 3, 7)
    for bad in ({**run, 'mode': 'quick'}, {**run, 'data': 'synthetic'}, {**run, 'result': False}):
        (res/'m.json').write_text(json.dumps(bad))
        with pytest.raises(SystemExit, match='not a full-mode result'): tool.training_record('m', tmp_path)
    (res/'m.json').write_text('{"result": tr')
    with pytest.raises(SystemExit, match='m.json: not a JSON record'): tool.training_record('m', tmp_path)
