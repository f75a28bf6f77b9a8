"Precision from the device, run records, callback order, failing runs: the GPU path's logic, tested on a CPU."
import json, sys, types
import numpy as np, pytest
from unittest.mock import patch
import keras
from fer_nb.config import Config, Device, choose_precision, get_config
from fer_nb.data import prepare
from fer_nb.faces import synthetic_data
from fer_nb.training import compile_model, fit, read_log, RunMismatch
from fer_nb.testing import StopAfter

@pytest.fixture(scope='module')
def sp():
    return prepare(synthetic_data(12, 4), Config(train_per_class=None, test_per_class=None))

def small():
    return compile_model(keras.Sequential([keras.Input((48, 48, 1)), keras.layers.Rescaling(1/255),
                                           keras.layers.Conv2D(4, 3, activation='relu'), keras.layers.MaxPooling2D(4),
                                           keras.layers.Flatten(), keras.layers.Dense(7, activation='softmax', dtype='float32')]),
                         lr=1e-3)

def _device(backend, **modules):
    from fer_nb.config import _backend_device
    with patch('keras.backend.backend', return_value=backend), patch.dict(sys.modules, modules): return _backend_device()

def test_each_backend_reports_its_device():
    "The backend-specific code reads each backend's own report (faked here: no GPU on this machine)."
    gpu = types.SimpleNamespace(platform='cuda', compute_capability='7.5')
    assert _device('jax', jax=types.SimpleNamespace(devices=lambda: [gpu])) == Device('gpu', 7.5)
    tpu = types.SimpleNamespace(platform='tpu')
    assert _device('jax', jax=types.SimpleNamespace(devices=lambda: [tpu])) == Device('tpu')
    cuda = types.SimpleNamespace(is_available=lambda: True, get_device_capability=lambda i: (8, 0))
    assert _device('torch', torch=types.SimpleNamespace(cuda=cuda)) == Device('gpu', 8.0)
    import tensorflow as tf
    with patch.object(tf.config, 'list_physical_devices', return_value=['GPU:0']), \
         patch.object(tf.config.experimental, 'get_device_details', return_value={'compute_capability': (9, 0)}):
        assert _device('tensorflow') == Device('gpu', 9.0)
    with patch.object(tf.config, 'list_physical_devices', return_value=['GPU:0']), \
         patch.object(tf.config.experimental, 'get_device_details', return_value={}):  # a GPU that does not say
        d = _device('tensorflow')
    assert d == Device('gpu') and choose_precision(d) == 'float32'
    assert [choose_precision(Device('gpu', c)) for c in (9.0, 8.0, 7.5, 7.0, 6.0)] == \
        ['mixed_bfloat16', 'mixed_bfloat16', 'mixed_float16', 'mixed_float16', 'float32']

def test_mixed_float16_trains_with_loss_scaling(sp, tmp_path, monkeypatch):
    "What a T4 gets, end to end on the CPU: the config's policy, a loss-scaled optimizer, a finite and falling loss."
    before = keras.config.dtype_policy()
    monkeypatch.setenv('FER_NB_PRECISION', 'mixed_float16')
    try:
        cfg = get_config('quick', root=tmp_path, verbose=False)
        assert cfg.precision == 'mixed_float16' == keras.config.dtype_policy().name
        m = small()
        assert m.layers[1].compute_dtype == 'float16' and m.layers[1].variable_dtype == 'float32'
        assert isinstance(m.optimizer, keras.optimizers.LossScaleOptimizer)
        hist = fit(m, sp, tmp_path/'run', epochs=4, batch_size=16, verbose=0, patience=None)
    finally: keras.config.set_dtype_policy(before)
    assert np.all(np.isfinite(hist['loss'])) and hist['loss'][-1] < hist['loss'][0], hist['loss']
    assert int(m.optimizer.iterations.numpy()) == 4*int(np.ceil(len(sp.y_train)/16))
    assert np.isfinite(float(m.optimizer.dynamic_scale.numpy()))  # the scale Keras adjusts as it goes
    assert json.loads((tmp_path/'run'/'run.json').read_text())['precision'] == 'mixed_float16'

def test_backup_is_written_after_the_checkpoint_and_log(sp, tmp_path, monkeypatch):
    "Each epoch's backup is saved only once its log row and (on the first epoch) its checkpoint exist."
    seen, save = [], keras.callbacks.BackupAndRestore._save_model
    def spy(self):
        seen.append((len(read_log(tmp_path).get('loss', [])), self._current_epoch, (tmp_path/'model.keras').exists()))
        save(self)
    monkeypatch.setattr(keras.callbacks.BackupAndRestore, '_save_model', spy)
    fit(small(), sp, tmp_path, epochs=3, verbose=0, patience=None)
    assert seen == [(1, 1, True), (2, 2, True), (3, 3, True)]

def test_a_folder_from_before_run_records_resumes(sp, tmp_path, capsys):
    "The compatibility promise: a backup without run.json (the previous version's) resumes and gets its record."
    run = dict(mode='full', model='custom_cnn_aug', lr=1e-4)
    with pytest.raises(KeyboardInterrupt): fit(small(), sp, tmp_path, epochs=3, verbose=0, settings=run, callbacks=[StopAfter(1)])
    (tmp_path/'run.json').unlink()
    capsys.readouterr()
    resumed = keras.callbacks.History()  # Keras' own record of the epochs this call ran
    hist = fit(small(), sp, tmp_path, epochs=3, verbose=0, settings=run, callbacks=[resumed])
    out = capsys.readouterr().out
    assert 'made before fer_nb recorded run settings' in out and len(out.strip().splitlines()) == 1
    assert len(hist['loss']) == 3 and hist['loss'][1:] == pytest.approx(resumed.history['loss'])  # resumed at epoch 2
    assert {k: json.loads((tmp_path/'run.json').read_text())[k] for k in run} == run

def test_a_resume_with_other_settings_names_each_one(sp, tmp_path):
    run = dict(mode='full', model='custom_cnn', lr=1e-4)
    with pytest.raises(KeyboardInterrupt): fit(small(), sp, tmp_path, epochs=3, verbose=0, settings=run, callbacks=[StopAfter(1)])
    with pytest.raises(RunMismatch) as e: fit(small(), sp, tmp_path, epochs=3, batch_size=32, verbose=0, settings={**run, 'mode': 'quick'})
    assert str(tmp_path) in str(e.value) and "mode: 'full' → 'quick'" in str(e.value) and 'batch_size: 64 → 32' in str(e.value)
    assert (tmp_path/'backup').is_dir()  # nothing deleted
