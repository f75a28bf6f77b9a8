"JAX compiles the augmented models; data-parallel training on two virtual CPUs matches one device (in subprocesses)."
import json, os, subprocess, sys, textwrap
import pytest

def _run(backend:str, code:str, devices:int=1, timeout:int=300) -> dict:
    "Run `code` under Keras `backend` with `devices` virtual CPUs; return the JSON it prints last."
    env = {**os.environ, 'KERAS_BACKEND': backend, 'TF_CPP_MIN_LOG_LEVEL': '3'}
    env.pop('FER_NB_DEVICES', None)
    pre = ''
    if devices > 1 and backend == 'jax': env['XLA_FLAGS'] = f'--xla_force_host_platform_device_count={devices}'
    if devices > 1 and backend == 'tensorflow':
        pre = (f"import tensorflow as tf\ntf.config.set_logical_device_configuration("
               f"tf.config.list_physical_devices('CPU')[0], [tf.config.LogicalDeviceConfiguration()]*{devices})\n")
    p = subprocess.run([sys.executable, '-c', pre + textwrap.dedent(code)], env=env, capture_output=True, text=True,
                       timeout=timeout)
    assert p.returncode == 0, p.stderr[-3000:]
    return json.loads(p.stdout.strip().splitlines()[-1])

JIT = """
import json, numpy as np, keras, jax
from fer_nb.models import model5_compact, custom_cnn_aug
from fer_nb.pretrained import pretrained
from fer_nb.training import compile_model, jit_augmentation, JIT_LAYERS
out = {}
for b in (model5_compact, custom_cnn_aug):
    m = b(seed=0)
    before = [(l.name, type(l).__name__) for l in m._flatten_layers()], [w.shape for w in m.weights]
    compile_model(m)
    out[b.__name__] = m.jit_compile
    assert ([(l.name, type(l).__name__) for l in m._flatten_layers()], [w.shape for w in m.weights]) == before
out['pretrained'] = compile_model(pretrained()).jit_compile
x = np.random.default_rng(0).integers(0, 256, (8, 48, 48, 1)).astype('float32')
diffs = {}
for l in (keras.layers.RandomRotation(0.1, seed=1), keras.layers.RandomZoom(0.2, seed=1),
          keras.layers.RandomTranslation(0.2, 0.2, seed=1), keras.layers.RandomShear(0.2, seed=1)):
    l(x, training=True)
    state = [v.value for v in l.non_trainable_variables]
    jit_augmentation(keras.Sequential([keras.Input((48, 48, 1)), l]))
    yj, _ = jax.jit(lambda s, x: l.stateless_call([], s, x, training=True))(state, x)
    ye, _ = l.stateless_call([], state, x, training=True)
    diffs[type(l).__name__] = [float(np.abs(np.asarray(yj) - np.asarray(ye)).max()),
                               float(np.abs(np.asarray(ye) - x).max())]
out['diffs'] = diffs
out['crop'] = jit_augmentation(keras.Sequential([keras.Input((48, 48, 1)), keras.layers.RandomCrop(40, 40)]))
print(json.dumps(out))
"""

def test_jax_compiles_augmented_models():
    pytest.importorskip('jax')
    r = _run('jax', JIT)
    assert r['model5_compact'] is True and r['custom_cnn_aug'] is True and r['pretrained'] is True, r
    assert r['crop'] == [], 'RandomCrop does not compile under JAX and must stay eager'
    assert sorted(r['diffs']) == ['RandomRotation', 'RandomShear', 'RandomTranslation', 'RandomZoom']
    for name, (jit_vs_eager, changed) in r['diffs'].items():
        assert jit_vs_eager < 0.01, f'{name}: compiled and eager augmentation differ by {jit_vs_eager} (pixels 0-255)'
        assert changed > 1, f'{name} did not change the images'

def test_tensorflow_unchanged():
    r = _run('tensorflow', """
        import json
        from fer_nb.models import custom_cnn_aug
        from fer_nb.training import compile_model, jit_augmentation
        m = compile_model(custom_cnn_aug(seed=0))
        print(json.dumps({'names': jit_augmentation(m), 'jit': m.jit_compile,
                          'unsupported': sorted(l.name for l in m._flatten_layers() if not l.supports_jit)}))""")
    assert r['names'] == [] and r['jit'] is False and len(r['unsupported']) == 4, r

PARALLEL = """
import json, numpy as np, keras
import os
os.environ['FER_NB_DEVICES'] = '2'
from fer_nb.training import data_parallel, train_devices
devs = train_devices()
rng = np.random.default_rng(0)
x, y = rng.random((96, 6, 6, 1)).astype('float32'), rng.integers(0, 7, 96)
def make():
    keras.utils.set_random_seed(0)
    m = keras.Sequential([keras.Input((6, 6, 1)), keras.layers.Conv2D(4, 3, activation='relu'), keras.layers.Flatten(),
                          keras.layers.Dense(7, activation='softmax')])
    m.compile(keras.optimizers.SGD(0.1), 'sparse_categorical_crossentropy', jit_compile=False)
    return m
one = make(); w0 = one.get_weights()
one.fit(x, y, batch_size=16, epochs=3, shuffle=False, verbose=0)
with data_parallel(devs):
    par = make(); par.set_weights(w0)
    par.fit(x, y, batch_size=16, epochs=3, shuffle=False, verbose=0)
    if keras.backend.backend() == 'jax': used = sorted({str(d) for d in par.weights[0].value.sharding.device_set})
    else: used = [v.device for v in par.weights[0].value.values]
diff = max(float(np.abs(a - b).max()) for a, b in zip(one.get_weights(), par.get_weights()))
moved = max(float(np.abs(a - b).max()) for a, b in zip(w0, par.get_weights()))
out = {'devices': devs, 'used': used, 'diff': diff, 'moved': moved}
if keras.backend.backend() == 'tensorflow':  # `train`'s own arithmetic is the same on every backend: tested once
    import tempfile
    from pathlib import Path
    from fer_nb.config import Config
    from fer_nb.course import train
    from fer_nb.faces import synthetic_data
    cfg = Config(mode='quick', root=Path(tempfile.mkdtemp()), train_per_class=10, test_per_class=2, batch_size=4)
    r = train('model5_compact', cfg, synthetic_data(10, 2), epochs=1, verbose=0)
    run = json.loads((cfg.model_dir('model5_compact')/'fit.json').read_text())
    out |= {'recorded': r['devices'], 'batch_size': run['batch_size'], 'n_train': r['n_train']}
print(json.dumps(out))
"""

@pytest.mark.parametrize('backend', ['jax', 'tensorflow'])
def test_two_devices(backend):
    "Both devices hold the weights; the result matches one device's; `train` doubles the batch and records both (TF)."
    if backend == 'jax': pytest.importorskip('jax')
    r = _run(backend, PARALLEL, devices=2)
    assert r['devices'] == ['cpu:0', 'cpu:1'] and len(r['used']) == 2, r
    assert r['moved'] > 1e-3, 'training changed the weights'
    assert r['diff'] < 1e-4, f"two devices end {r['diff']} away from one device"
    if backend == 'tensorflow':
        assert r['recorded'] == ['cpu:0', 'cpu:1'] and r['batch_size'] == 8, r  # 4 per device
        assert r['n_train'] % 2 == 0, r  # `even_split`
