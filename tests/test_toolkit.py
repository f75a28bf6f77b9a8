"Training and evaluation toolkit: alignment, class weights, resume after interruption, artifacts, CLI train."
import json, os, subprocess, sys
import numpy as np, pytest
from pathlib import Path
import keras
from fer_nb.config import Config
from fer_nb.data import CLASSES
from fer_nb.faces import synthetic_data
from fer_nb.training import prepare, compile_model, fit, class_weights, StopAfter
from fer_nb.evaluation import evaluate, check_alignment, AlignmentError
from fer_nb.course import train, MODELS, model_info
from conftest import real_source

@pytest.fixture(scope='module')
def sp():
    return prepare(synthetic_data(20, 8), Config(train_per_class=None, test_per_class=None))

def small():
    return compile_model(keras.Sequential([keras.Input((48, 48, 1)), keras.layers.Rescaling(1/255), keras.layers.Conv2D(4, 3, activation='relu'),
        keras.layers.MaxPooling2D(4), keras.layers.Flatten(), keras.layers.Dense(7, activation='softmax')]), lr=1e-3)

def test_alignment_check_catches_a_shuffled_test_set(sp, tmp_path):
    m = small(); fit(m, sp, tmp_path, epochs=2, verbose=0)
    probs = np.asarray(m.predict(sp.x_test, verbose=0))
    acc = float(m.evaluate(sp.x_test, np.eye(7)[sp.y_test], verbose=0)[1])
    assert check_alignment(acc, sp.y_test, probs) == pytest.approx(acc, abs=2e-3)
    # a predictor that is right 80% of the time: the same labels shuffled drop to about chance, and must be caught
    rng = np.random.default_rng(0)
    y = rng.integers(0, 7, 400); good = np.eye(7)[np.where(rng.random(400) < 0.8, y, (y + 1) % 7)]
    acc = check_alignment(float((good.argmax(1) == y).mean()), y, good)
    with pytest.raises(AlignmentError): check_alignment(acc, rng.permutation(y), good)

def test_class_weights_balance_every_class():
    y = np.repeat(np.arange(7), [100, 10, 100, 300, 120, 120, 80])
    w = class_weights(y)
    totals = [w[c]*n for c, n in enumerate(np.bincount(y))]
    assert np.allclose(totals, totals[0]) and w[1] > w[3]

def test_interrupted_training_resumes(sp, tmp_path):
    with pytest.raises(KeyboardInterrupt): fit(small(), sp, tmp_path, epochs=5, verbose=0, callbacks=[StopAfter(3)])
    hist, secs = fit(small(), sp, tmp_path, epochs=5, verbose=0)
    assert len(hist['loss']) == 2 and len(secs) == 2
    epochs = [int(l.split(',')[0]) for l in (tmp_path/'training_log.csv').read_text().split()[1:]]
    assert epochs == [0, 1, 2, 3, 4] and not (tmp_path/'backup').exists()

def test_evaluate_metrics_agree_and_artifacts_exist(sp, tmp_path):
    m = small(); hist, _ = fit(m, sp, tmp_path, epochs=1, verbose=0)
    r = evaluate(m, sp, tmp_path, 'x', hist)
    cm = np.array(r['confusion_matrix'])
    assert r['report']['accuracy'] == pytest.approx(r['test_accuracy']) == pytest.approx(np.trace(cm)/cm.sum())
    assert cm.sum() == len(sp.y_test) and cm.shape == (7, 7)
    assert r['macro_f1'] == pytest.approx(np.mean([r['report'][c]['f1-score'] for c in CLASSES]))
    names = {'confusion_matrix', 'classification_report', 'roc_curves', 'predictions', 'training_curves', 'metrics', 'checkpoint', 'training_log'}
    assert names <= set(r['artifacts']) and all(Path(p).stat().st_size > 0 for p in r['artifacts'].values())
    assert json.loads((tmp_path/'metrics.json').read_text())['test_accuracy'] == r['test_accuracy']
    assert 0 <= r['roc_auc']['macro'] <= 1

def test_validation_is_not_augmented():
    from fer_nb.augment import custom_cnn_aug
    m = custom_cnn_aug(seed=0)
    x = synthetic_data(2, 1).x_test[..., None]
    assert np.allclose(keras.ops.convert_to_numpy(m(x, training=False)), keras.ops.convert_to_numpy(m(x, training=False)))

def test_model_parameter_counts():
    info = {n: model_info(n) for n in MODELS}
    assert [info[n]['total'] for n in MODELS] == [22_813_703, 22_813_703, 40_934_215, 29_996_295]
    assert [info[n]['trainable'] for n in MODELS] == [22_812_039, 22_812_039, 33_298_951, 22_779_527]

def test_full_mode_without_weights_is_a_clear_error(monkeypatch):
    from fer_nb.transfer import backbone, WeightsUnavailable
    monkeypatch.setenv('KERAS_HOME', '/nonexistent-keras-home')
    try: backbone('vgg16', 32, mode='full')
    except WeightsUnavailable as e: assert 'FER_NB_WEIGHTS_DIR' in str(e) and '\n' not in str(e)
    else: pytest.skip('ImageNet weights were downloadable here')

def _cli(*args):
    return subprocess.run([sys.executable, '-c', 'import sys; from fer_nb.cli import main; sys.exit(main())', *args],
                          capture_output=True, text=True, timeout=900)

def _consistent(r):
    cm = np.array(r['confusion_matrix'])
    assert r['report']['accuracy'] == pytest.approx(r['test_accuracy']) == pytest.approx(np.trace(cm)/cm.sum())
    assert r['macro_f1'] == pytest.approx(r['report']['macro avg']['f1-score'])

def test_cli_train_quick_synthetic(tmp_path, monkeypatch):
    monkeypatch.delenv('FER2013_ZIP', raising=False); monkeypatch.delenv('FER2013_DIR', raising=False)
    p = _cli('train', 'vgg16', '--mode', 'quick', '--epochs', '1', '--out', str(tmp_path/'r'), '--json')
    assert p.returncode == 0, p.stderr[-2000:]
    r = json.loads(p.stdout)
    assert (r['model'], r['mode'], r['data']) == ('vgg16', 'quick', 'synthetic')
    _consistent(r)
    assert all(Path(v).exists() for v in r['artifacts'].values())

@pytest.mark.skipif(not real_source(), reason='set FER2013_ZIP or FER2013_DIR to test on the real FER-2013')
def test_cli_train_quick_on_real_data(tmp_path, real_cache, monkeypatch):
    monkeypatch.setenv('FER_NB_CACHE', str(real_cache))
    p = _cli('train', 'resnet50v2', '--mode', 'quick', '--data', real_source(), '--out', str(tmp_path/'r'), '--json')
    assert p.returncode == 0, p.stderr[-2000:]
    r = json.loads(p.stdout)
    assert (r['data'], r['epochs_run']) == ('fer2013', 2)
    _consistent(r)
    assert set(r['test_parts']) == {'PublicTest', 'PrivateTest'}

def test_resume_survives_a_backup_corrupted_by_a_kill(sp, tmp_path):
    "A process killed while writing its backup leaves a truncated file; training falls back to the previous epoch's."
    with pytest.raises(KeyboardInterrupt): fit(small(), sp, tmp_path, epochs=6, verbose=0, callbacks=[StopAfter(3)])
    latest = tmp_path/'backup'/'latest.weights.h5'
    latest.write_bytes(latest.read_bytes()[:100])
    hist, _ = fit(small(), sp, tmp_path, epochs=6, verbose=0)
    assert len(hist['loss']) == 4  # epoch 3's backup was lost, epoch 2's was used: epochs 3-6 ran again

def test_unrecoverable_backup_is_a_clear_error(sp, tmp_path):
    from fer_nb.training import BackupError
    (tmp_path/'backup').mkdir(parents=True)
    (tmp_path/'backup'/'latest.weights.h5').write_bytes(b'not hdf5')
    (tmp_path/'backup'/'training_metadata.json').write_text('{"epoch": 1, "batch": -1}')
    with pytest.raises(BackupError, match='move or delete that folder'): fit(small(), sp, tmp_path, epochs=3, verbose=0)
    assert (tmp_path/'backup'/'latest.weights.h5').read_bytes() == b'not hdf5'  # nothing deleted

def test_cli_course_quick_writes_the_comparison(tmp_path, monkeypatch):
    "The README's main job: every model trained, one comparison that says quick-mode numbers are not results."
    monkeypatch.delenv('FER2013_ZIP', raising=False); monkeypatch.delenv('FER2013_DIR', raising=False)
    p = _cli('course', '--mode', 'quick', '--out', str(tmp_path/'r'), '--json')
    assert p.returncode == 0, p.stderr[-2000:]
    out = json.loads(p.stdout)
    assert [r['model'] for r in out['results']] == list(MODELS) and out['data'] == 'synthetic'
    for r in out['results']: _consistent(r)
    md = Path(out['comparison_md']).read_text()
    assert 'not results' in md and md.count('| Model ') == 4
    assert json.loads(Path(out['comparison_json']).read_text())['mode'] == 'quick'

def test_cli_bench_reports_consistent_rates(tmp_path, monkeypatch):
    monkeypatch.delenv('FER2013_ZIP', raising=False); monkeypatch.delenv('FER2013_DIR', raising=False)
    p = _cli('bench', '--mode', 'quick', '--batches', '1', '--models', 'custom_cnn', '--train-steps', '1', '--json')
    assert p.returncode == 0, p.stderr[-2000:]
    b = json.loads(p.stdout)
    assert b['reference_img_per_s'] > 0 and b['fer_nb_img_per_s'] > 0 and b['jpeg_source'] == 'synthetic'
    assert b['ratio'] == pytest.approx(b['fer_nb_img_per_s']/b['reference_img_per_s'])
    assert b['gray48_ratio'] == pytest.approx(b['gray48_fer_nb_img_per_s']/b['gray48_reference_img_per_s'])
    assert set(b['train_img_per_s']) == {'custom_cnn'}

def test_full_mode_uses_a_supplied_weights_file(tmp_path, monkeypatch):
    "The offline path users are told to take: Keras' notop .h5 file in FER_NB_WEIGHTS_DIR is loaded, weight for weight."
    h5py = pytest.importorskip('h5py')
    legacy = pytest.importorskip('keras.src.legacy.saving.legacy_h5_format')
    src = keras.applications.VGG16(include_top=False, weights=None, input_shape=(32, 32, 3))
    with h5py.File(tmp_path/'vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5', 'w') as f: legacy.save_weights_to_hdf5_group(f, src)
    monkeypatch.setenv('FER_NB_WEIGHTS_DIR', str(tmp_path))
    from fer_nb.transfer import backbone
    got = backbone('vgg16', 32, mode='full')
    assert all(np.array_equal(a, b) for a, b in zip(src.get_weights(), got.get_weights()))
