"The fer-nb command as a user runs it: a separate process, JSON on stdout, one-line errors."
import json, os, subprocess, sys
import pytest
from fer_nb.data import CLASSES
from fer_nb.testing import make_fake_fer
from conftest import real_source

def run(*args, env=None):
    return subprocess.run([sys.executable, '-c', 'import sys; from fer_nb.cli import main; sys.exit(main())', *args],
                          capture_output=True, text=True, env=env or os.environ.copy(), timeout=600)

def test_data_json_and_problems(tmp_path):
    root = make_fake_fer(tmp_path/'fer', n=2)
    (root/'test'/'happy'/'PublicTest_bad.jpg').write_bytes(b'junk')
    r = run('data', '--source', str(root), '--json')
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert set(out) == {'root', 'counts', 'problems'}
    assert out['counts']['train'] == {c: 2 for c in CLASSES}
    assert [p['reason'] for p in out['problems']] == ['not an image']
    assert (root/'test'/'happy'/'PublicTest_bad.jpg').read_bytes() == b'junk'

def test_data_bad_source_is_one_line(tmp_path):
    r = run('data', '--source', str(tmp_path/'missing.zip'))
    assert r.returncode == 1 and r.stdout == ''
    assert r.stderr.strip().count('\n') == 0 and 'missing.zip does not exist' in r.stderr

def test_data_does_not_import_keras(tmp_path):
    root = make_fake_fer(tmp_path/'fer', n=1)
    code = ('import sys; from fer_nb.cli import main; main(["data", "--source", sys.argv[1], "--json"]); '
            'bad = [m for m in ("keras", "tensorflow", "jax", "torch") if m in sys.modules]; assert not bad, bad')
    r = subprocess.run([sys.executable, '-c', code, str(root)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr

@pytest.mark.skipif(not real_source(), reason='set FER2013_ZIP or FER2013_DIR to test on the real FER-2013')
def test_data_on_real_fer2013(real_cache):
    env = {**os.environ, 'FER_NB_CACHE': str(real_cache)}
    r = run('data', '--source', real_source(), '--json', env=env)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert sum(out['counts']['train'].values()) == 28709 and sum(out['counts']['test'].values()) == 7178
    assert out['counts']['test']['disgust'] == 111 and out['problems'] == []

def test_keras_commands_start_quietly(monkeypatch):
    "TensorFlow's C++ start-up notes (oneDNN, cuInit, abseil) stay off the terminal unless TF_CPP_MIN_LOG_LEVEL is set."
    monkeypatch.delenv('TF_CPP_MIN_LOG_LEVEL', raising=False)
    r = run('models', '--json', env={k: v for k, v in os.environ.items() if k != 'TF_CPP_MIN_LOG_LEVEL'})
    assert r.returncode == 0, r.stderr[-2000:]
    assert json.loads(r.stdout)['custom_cnn']['total'] == 22_813_703
    for noise in ('absl::InitializeLog', 'oneDNN', 'cuInit', 'cuda drivers', 'cpu_feature_guard'):
        assert noise not in r.stderr, r.stderr[-2000:]
