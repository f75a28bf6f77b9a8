"tools/restore_run.py: a published run's folder, rebuilt from the repository, is one `fit` accepts as finished."
import json
from pathlib import Path
import numpy as np
import pytest
from conftest import load_tool

ROOT = Path(__file__).parents[1]

def _tool(): return load_tool('restore_run')

@pytest.mark.parametrize('name', ['model5_compact', 'model5_long', 'model5_long100'])  # the shipped model is model5_long
def test_the_restored_run_is_the_published_run(tmp_path, name):
    import keras
    from fer_nb.config import Config, MODELS, dtype_policy
    from fer_nb.course import build
    from fer_nb.pretrained import SHIPPED, pretrained
    from fer_nb.training import _finished
    tool, rec = _tool(), json.loads((ROOT/'results'/f'{name}.json').read_text())
    out = tool.restore(tmp_path, name)
    assert out == tmp_path/MODELS[name].folder
    run = json.loads((out/'run.json').read_text())
    assert json.loads((out/'fit.json').read_text()) == {**run, 'epochs_run': rec['epochs_run']}
    assert (run['precision'], run['n_train'], run['n_val'], run['seed']) == (rec['precision'], 25_839, 2_870, 42)
    with dtype_policy('float32'):
        m = build(name, Config(mode='full'), weights=None)
        assert _finished(out, run, m)  # what `train` checks before it would train: these settings, a checkpoint
        assert tool.run_settings(name, {**rec, 'precision': 'float32'}) != run  # the record decides
        x = np.random.default_rng(0).integers(0, 256, (4, 48, 48, 1)).astype('uint8')
        kept = pretrained() if name == SHIPPED else keras.saving.load_model(ROOT/'weights'/f'{name}.keras')
        np.testing.assert_array_equal(m.predict(x, verbose=0), kept.predict(x, verbose=0))

def test_it_never_writes_over_a_run_and_names_what_is_missing(tmp_path):
    tool = _tool()
    out = tool.restore(tmp_path)
    before = (out/'fit.json').read_text()
    with pytest.raises(SystemExit, match='exists'): tool.restore(tmp_path)
    assert (out/'fit.json').read_text() == before
    with pytest.raises(SystemExit, match='missing'): tool.restore(tmp_path/'other', weights=tmp_path/'none.keras')
    assert not (tmp_path/'other').exists()

def test_the_tool_writes_the_settings_train_writes(tmp_path):
    "The settings the tool derives from a record are the ones `train` recorded for that run (here 1 epoch, fake data)."
    from fer_nb.config import get_config, MODELS
    from fer_nb.course import train
    from fer_nb.datasets import load_data
    from fer_nb.testing import make_fake_fer
    cfg = get_config('full', root=tmp_path/'runs', verbose=False)
    res = train('model5_compact', cfg, load_data(cfg, make_fake_fer(tmp_path/'fake', n=10), verbose=False), epochs=1,
                verbose=0)
    recorded = json.loads((cfg.root/MODELS['model5_compact'].folder/'fit.json').read_text())
    assert recorded == {**_tool().run_settings('model5_compact', res), 'epochs': 1, 'epochs_run': 1}
