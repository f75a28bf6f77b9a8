"Training and evaluation toolkit: alignment, class weights, resume after interruption, artifacts, CLI train."
import json, subprocess, sys
import numpy as np, pandas as pd, pytest
from pathlib import Path
import keras
from fer_nb.config import Config
from fer_nb.data import CLASSES, prepare
from fer_nb.faces import synthetic_data
from fer_nb.training import compile_model, fit, class_weights
from fer_nb.testing import StopAfter
from fer_nb.evaluation import evaluate, check_alignment, AlignmentError
from fer_nb.course import model_info
from conftest import real_source, consistent

@pytest.fixture(scope='module')
def sp():
    return prepare(synthetic_data(20, 8), Config(train_per_class=None, test_per_class=None))

def small():
    return compile_model(keras.Sequential([keras.Input((48, 48, 1)), keras.layers.Rescaling(1/255), keras.layers.Conv2D(4, 3, activation='relu'),
        keras.layers.MaxPooling2D(4), keras.layers.Flatten(), keras.layers.Dense(7, activation='softmax')]), lr=1e-3)

def test_alignment_check_catches_a_shuffled_test_set(sp, tmp_path):
    m = small(); fit(m, sp, tmp_path, epochs=2, verbose=0)
    probs = np.asarray(m.predict(sp.x_test, verbose=0))
    acc = float(m.evaluate(sp.x_test, sp.y_test, verbose=0)[1])
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

class Sabotage(keras.callbacks.Callback):
    "From epoch `n` on (0-based), scramble the weights before each epoch, so those epochs end worse than any before."
    def __init__(self, n): super().__init__(); self.n = n
    def on_epoch_begin(self, epoch, logs=None):
        if epoch >= self.n:
            rng = np.random.default_rng(epoch)
            self.model.set_weights([rng.normal(0, 3, w.shape).astype(w.dtype) for w in self.model.get_weights()])

def _val_loss(m, sp):
    return float(m.evaluate(sp.x_val, sp.y_val, verbose=0)[0])

def test_resume_covers_the_whole_run_and_keeps_its_best_epoch(sp, tmp_path):
    "Interrupted after epoch 2 of 4 and resumed: history, timings and epochs cover all 4; the best epoch (before the break) is kept."
    h1, h2 = keras.callbacks.History(), keras.callbacks.History()  # Keras' own record of each part, not fer_nb's log
    with pytest.raises(KeyboardInterrupt): fit(small(), sp, tmp_path, epochs=4, verbose=0, callbacks=[h1, StopAfter(2)])
    m = small()
    hist = fit(m, sp, tmp_path, epochs=4, verbose=0, callbacks=[h2, Sabotage(2)])
    assert len(hist['loss']) == 4 and len(hist['seconds']) == 4 and all(s > 0 for s in hist['seconds'])
    assert json.loads((tmp_path/'fit.json').read_text())['epochs_run'] == 4 and not (tmp_path/'backup').exists()
    best = int(np.argmin(hist['val_loss']))
    assert best < 2, hist['val_loss']  # the sabotaged epochs 3 and 4 are worse
    nearest = lambda v: int(np.argmin(np.abs(np.array(hist['val_loss']) - v)))
    assert nearest(_val_loss(m, sp)) == best  # the returned model is the best epoch
    assert nearest(_val_loss(keras.saving.load_model(tmp_path/'model.keras'), sp)) == best  # and so is model.keras
    assert hist['val_loss'] == pytest.approx(h1.history['val_loss'] + h2.history['val_loss'])  # both parts, in order

def test_evaluate_metrics_agree_and_artifacts_exist(sp, tmp_path):
    m = small(); hist = fit(m, sp, tmp_path, epochs=1, verbose=0)
    r = evaluate(m, sp, tmp_path, 'x', hist)
    cm = np.array(r['confusion_matrix'])
    assert r['report']['accuracy'] == pytest.approx(r['test_accuracy']) == pytest.approx(np.trace(cm)/cm.sum())
    assert cm.sum() == len(sp.y_test) and cm.shape == (7, 7)
    assert r['macro_f1'] == pytest.approx(np.mean([r['report'][c]['f1-score'] for c in CLASSES]))
    names = {'confusion_matrix', 'classification_report', 'roc_curves', 'predictions', 'training_curves', 'metrics', 'checkpoint',
             'training_log'}
    assert names <= set(r['artifacts']) and all(Path(p).stat().st_size > 0 for p in r['artifacts'].values())
    assert json.loads((tmp_path/'metrics.json').read_text())['test_accuracy'] == r['test_accuracy']
    assert 0 <= r['roc_auc']['macro'] <= 1

def test_validation_is_not_augmented():
    "At inference Model 2 is exactly Model 1 with the same weights; in training its augmentation changes the output."
    from fer_nb.models import custom_cnn, custom_cnn_aug
    m2, m1 = custom_cnn_aug(seed=0), custom_cnn()
    m1.set_weights(m2.get_weights())  # the augmentation layers hold no weights: the lists line up
    x = synthetic_data(2, 1).x_test[..., None]
    out = lambda m, training: keras.ops.convert_to_numpy(m(x, training=training))
    np.testing.assert_allclose(out(m2, False), out(m1, False), atol=1e-6)
    aug = m2.get_layer('augmentation')
    assert not np.allclose(keras.ops.convert_to_numpy(aug(x.astype('float32'), training=True)), x)

def test_model_parameter_counts():
    course = ['custom_cnn', 'custom_cnn_aug', 'vgg16', 'resnet50v2']
    info = {n: model_info(n) for n in course + ['model5_compact']}
    assert [info[n]['total'] for n in course] == [22_813_703, 22_813_703, 40_934_215, 29_996_295]
    assert [info[n]['trainable'] for n in course] == [22_812_039, 22_812_039, 33_298_951, 22_779_527]
    assert info['model5_compact']['total'] <= 3_000_000

def test_full_mode_without_weights_is_a_clear_error(monkeypatch, tmp_path):
    "No cached ImageNet file and a download that fails after the server answered: one line, where to put the file."
    import keras.src.backend.config as kconfig
    import keras.src.applications.vgg16 as kvgg
    import fer_nb.transfer as transfer
    from fer_nb.transfer import backbone, WeightsUnavailable
    monkeypatch.setattr(kconfig, '_KERAS_DIR', str(tmp_path/'empty-keras-home'))  # Keras read KERAS_HOME at import
    monkeypatch.setenv('KERAS_HOME', str(tmp_path/'empty-keras-home'))
    monkeypatch.setattr(transfer, 'unreachable', lambda *a, **k: None)  # the server answers; the download then fails
    def offline(*a, **k): raise OSError('URL fetch failure: no network in this test')
    monkeypatch.setattr(kvgg.file_utils, 'get_file', offline)
    with pytest.raises(WeightsUnavailable) as e: backbone('vgg16', 32)
    assert 'FER_NB_WEIGHTS_DIR' in str(e.value) and 'no network' in str(e.value) and '\n' not in str(e.value)

def _cli(*args):
    return subprocess.run([sys.executable, '-c', 'import sys; from fer_nb.cli import main; sys.exit(main())', *args],
                          capture_output=True, text=True, timeout=900)

@pytest.mark.skipif(not real_source(), reason='set FER2013_ZIP or FER2013_DIR to test on the real FER-2013')
def test_cli_train_quick_on_real_data(tmp_path, real_cache, monkeypatch):
    monkeypatch.setenv('FER_NB_CACHE', str(real_cache))
    p = _cli('train', 'model5_compact', '--mode', 'quick', '--data', real_source(), '--epochs', '1', '--out',
             str(tmp_path/'r'), '--json')  # the real-data path through the CLI; one epoch is enough to check it
    assert p.returncode == 0, p.stderr[-2000:]
    r = json.loads(p.stdout)
    assert (r['data'], r['epochs_run'], r['mode'], r['result']) == ('fer2013', 1, 'quick', False)
    consistent(r)
    assert r['public_test_accuracy'] is not None and r['private_test_accuracy'] is not None
    assert 0 < r['dedup_test_images'] <= r['n_test']

def test_resume_survives_a_backup_corrupted_by_a_kill(sp, tmp_path):
    "A process killed while writing its backup leaves a truncated file; training falls back to the previous epoch's."
    kw = dict(epochs=6, verbose=0, patience=None)  # no early stopping: all six epochs must run
    with pytest.raises(KeyboardInterrupt): fit(small(), sp, tmp_path, callbacks=[StopAfter(3)], **kw)
    latest = tmp_path/'backup'/'latest.weights.h5'
    latest.write_bytes(latest.read_bytes()[:100])
    hist = fit(small(), sp, tmp_path, **kw)
    assert len(hist['loss']) == 6  # epoch 3's backup was lost, epoch 2's was used: epochs 3-6 ran again
    assert pd.read_csv(tmp_path/'training_log.csv').epoch.tolist() == [0, 1, 2, 2, 3, 4, 5]  # the log keeps the re-run

def test_unrecoverable_backup_is_a_clear_error(sp, tmp_path):
    from fer_nb.training import BackupError
    (tmp_path/'backup').mkdir(parents=True)
    (tmp_path/'backup'/'latest.weights.h5').write_bytes(b'not hdf5')
    (tmp_path/'backup'/'training_metadata.json').write_text('{"epoch": 1, "batch": -1}')
    with pytest.raises(BackupError, match='move it away'): fit(small(), sp, tmp_path, epochs=3, verbose=0)
    assert (tmp_path/'backup'/'latest.weights.h5').read_bytes() == b'not hdf5'  # nothing deleted

def test_cli_bench_reports_consistent_rates(tmp_path, monkeypatch):
    monkeypatch.delenv('FER2013_ZIP', raising=False); monkeypatch.delenv('FER2013_DIR', raising=False)
    p = _cli('bench', '--mode', 'quick', '--batches', '1', '--models', 'model5_compact', '--train-steps', '1',
             '--precision-models', '--video-frames', '0', '--predict-faces', '256', '--json')
    assert p.returncode == 0, p.stderr[-2000:]
    b = json.loads(p.stdout)
    assert b['reference_img_per_s'] > 0 and b['fer_nb_img_per_s'] > 0 and b['jpeg_source'] == 'synthetic'
    assert b['ratio'] == pytest.approx(b['fer_nb_img_per_s']/b['reference_img_per_s'])
    assert b['gray48_ratio'] == pytest.approx(b['gray48_fer_nb_img_per_s']/b['gray48_reference_img_per_s'])
    assert set(b['train_img_per_s']) == {'model5_compact'} and b['predict_faces_per_s'] > 0

def test_full_mode_uses_a_supplied_weights_file(tmp_path, monkeypatch):
    "The offline path users are told to take: Keras' notop .h5 file in FER_NB_WEIGHTS_DIR is loaded, weight for weight."
    h5py = pytest.importorskip('h5py')
    legacy = pytest.importorskip('keras.src.legacy.saving.legacy_h5_format')
    src = keras.applications.VGG16(include_top=False, weights=None, input_shape=(32, 32, 3))
    with h5py.File(tmp_path/'vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5', 'w') as f: legacy.save_weights_to_hdf5_group(f, src)
    monkeypatch.setenv('FER_NB_WEIGHTS_DIR', str(tmp_path))
    from fer_nb.transfer import backbone
    got = backbone('vgg16', 32, weights_dir=tmp_path)
    assert all(np.array_equal(a, b) for a, b in zip(src.get_weights(), got.get_weights()))
