"The shipped model's calibration record: it belongs to the shipped weights, `predict` applies it, and it is right."
import argparse, json, shutil
from pathlib import Path
import numpy as np, pytest
from conftest import real_source

ROOT = Path(__file__).parents[1]
FACES = np.random.default_rng(0).integers(0, 256, (6, 48, 48, 1)).astype('uint8')

def test_record_belongs_to_the_shipped_weights():
    from fer_nb.calibration import shipped_record, sha256
    from fer_nb.pretrained import pretrained_path
    rec = shipped_record()
    assert rec is not None, 'no calibration record beside the shipped weights: run python tools/calibrate_shipped.py'
    assert rec['weights_sha256'] == sha256(pretrained_path()), 'stale record: run python tools/calibrate_shipped.py'
    assert (rec['validation']['images'], rec['test']['images']) == (2870, 7178) and rec['data'] == 'fer2013'
    assert 0.5 < rec['temperature'] < 3 and rec['n_bins'] == 15
    for part in ('validation', 'test'):
        r = rec[part]
        assert r['nll_after'] < r['nll_before'] and r['ece_after'] < r['ece_before'], (part, r)
    from fer_nb.pretrained import SHIPPED
    assert rec['model'] == SHIPPED
    results = json.loads((ROOT/'results'/f'{SHIPPED}.json').read_text())  # the run's own, one-view, accuracy
    assert abs(rec['test']['accuracy'] - results['plain_test_accuracy']) < 0.005

def test_predict_serves_calibrated_probabilities():
    from fer_nb.calibration import scale, shipped_temperature, temperature_of
    from fer_nb.pretrained import pretrained, PRETRAINED
    from fer_nb.predict import load_model
    t = shipped_temperature()
    model, name = load_model()
    assert t != 1 and temperature_of(model) == t and name.endswith(PRETRAINED)
    raw = np.asarray(pretrained().predict(FACES, verbose=0), np.float64)
    got = np.asarray(model.predict(FACES, verbose=0), np.float64)
    assert np.allclose(got, scale(raw, t), atol=1e-5) and (got.argmax(1) == raw.argmax(1)).all()
    assert (got.max(1) < raw.max(1)).all()  # T > 1 softens every prediction

def test_cli_json_names_the_temperature(tmp_path):
    from fer_nb.calibration import shipped_temperature
    from fer_nb.predict import add_predict_args, predict_command
    from fer_nb.testing import sample_photos
    a = add_predict_args(argparse.ArgumentParser()).parse_args([str(sample_photos()['grace_hopper'])])
    payload, _ = predict_command(a)
    assert payload['temperature'] == shipped_temperature()
    assert abs(sum(payload['images'][0]['faces'][0]['probabilities'].values()) - 1) < 1e-3

def test_a_stale_record_is_not_applied(tmp_path, monkeypatch, capsys):
    import fer_nb.pretrained as fm
    from fer_nb.calibration import record_path, shipped_temperature
    w = tmp_path/fm.PRETRAINED
    w.write_bytes(fm.pretrained_path().read_bytes() + b'retrained')  # other weights, same record
    shutil.copy(record_path(fm.pretrained_path()), record_path(w))
    monkeypatch.setattr(fm, 'pretrained_path', lambda: w)
    assert shipped_temperature() == 1.0
    assert 'fitted for other weights' in capsys.readouterr().err

@pytest.mark.skipif(not real_source(), reason='set FER2013_ZIP or FER2013_DIR to test on the real FER-2013')
def test_record_refits_on_the_validation_split(real_cache, monkeypatch):
    "The temperature fitted again on the shipped model's validation split is the recorded one."
    monkeypatch.setenv('FER_NB_CACHE', str(real_cache))
    from fer_nb.calibration import ece, fit_temperature, shipped_record
    from fer_nb.config import Config, MODELS
    from fer_nb.data import prepare
    from fer_nb.datasets import load_data
    from fer_nb.evaluation import predict_probs
    from fer_nb.pretrained import pretrained, SHIPPED
    cfg = Config(mode='full', train_per_class=None, test_per_class=None, data=real_source())
    sp = prepare(load_data(cfg, verbose=False), cfg, MODELS[SHIPPED].val_split)
    p, rec = predict_probs(pretrained(), sp.x_val, 256), shipped_record()
    assert len(sp.y_val) == rec['validation']['images']
    assert abs(ece(p, sp.y_val) - rec['validation']['ece_before']) < 2e-3
    assert abs(fit_temperature(p, sp.y_val) - rec['temperature']) < 0.01
