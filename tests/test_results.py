"results/*.json hold only real results, consistent with themselves, and the README's table is made from them."
import json
from pathlib import Path
import numpy as np, pytest
from conftest import load_tool
from fer_nb.config import MODELS, is_result
from fer_nb.evaluation import pct_ci, tta_views

ROOT = Path(__file__).parents[1]
PILOTS = ROOT/'results'/'model5_pilots.json'  # short pilot runs, judged on the validation split (tools/pilots.py)
SEEDS = sorted((ROOT/'results').glob('*_repeats.json'))  # reruns of one model's recipe (tools/repeat_runs.py)
FILES = sorted(f for f in (ROOT/'results').glob('*.json') if f != PILOTS and f not in SEEDS)  # each: a model's run
KEYS = {'model', 'mode', 'data', 'test_accuracy', 'public_test_accuracy', 'private_test_accuracy', 'dedup_test_accuracy',
        'dedup_test_images', 'macro_f1', 'confusion_matrix', 'epochs_run', 'seconds_per_epoch', 'hardware', 'precision',
        'backend', 'keras_version', 'date'}

def _make_readme(): return load_tool('make_readme')

@pytest.mark.parametrize('f', FILES, ids=[f.stem for f in FILES])
def test_result_is_real_and_consistent(f):
    r = json.loads(f.read_text())
    assert KEYS <= set(r), KEYS - set(r)
    assert r['model'] == f.stem and r['model'] in MODELS
    assert is_result(r['mode'], r['data']), 'only full-mode runs on FER-2013 belong in results/'
    cm = np.array(r['confusion_matrix'])
    assert cm.shape == (7, 7) and cm.sum() == 7178, 'the whole test folder, seven classes'
    assert abs(np.trace(cm)/cm.sum() - r['test_accuracy']) < 1e-9, 'test accuracy is the diagonal share'
    assert cm.sum(1).tolist() == [958, 111, 1024, 1774, 1233, 1247, 831], 'rows are the true classes, alphabetical'
    assert 0 < r['dedup_test_images'] < 7178 and 0 < r['dedup_test_accuracy'] < 1
    assert 'artifacts' not in r and (ROOT/'results'/f'{f.stem}_training_log.csv').is_file()

def test_results_hold_no_weights():
    assert not [p for p in (ROOT/'results').glob('*') if p.suffix not in ('.json', '.csv')]

def test_readme_table_is_made_from_results():
    m = _make_readme()
    table = m.results_table(ROOT/'results')
    assert table in (ROOT/'README.md').read_text(), 'run: python tools/make_readme.py'
    for f in FILES:
        r = json.loads(f.read_text())
        plain = r.get('plain_test_accuracy', r['test_accuracy'])
        assert f"| {MODELS[r['model']].title} | {pct_ci(plain, r['n_test'])} | " in table
        if r.get('tta'): assert f" | {pct_ci(r['test_accuracy'], r['n_test'])} ({len(tta_views(r['tta']))}) | " in table
    assert table.count('not yet run here') == len(MODELS) - len(FILES)

def test_pilots_never_saw_the_test_folder():
    "The pilot table holds validation accuracies only: choosing a recipe from it cannot leak the test folder."
    doc = json.loads(PILOTS.read_text())
    assert doc['data'] == 'fer2013' and doc['split'].startswith('validation') and doc['pilots']
    for r in doc['pilots']:
        assert not [k for k in r if 'test' in k], r
        assert r['n_val'] == 2870 and all(0 < r[k] < 1 for k in ('val_plain', 'val_flip', 'val_18_views')), r
        assert r['precision'] and r['seed'] == 42 and r['epochs'] == doc['pilots'][0]['epochs'], r

@pytest.mark.parametrize('f', SEEDS, ids=[f.stem for f in SEEDS])
def test_reruns_are_real_and_distinct(f):
    doc = json.loads(f.read_text())
    assert f.stem == f"{doc['model']}_repeats" and doc['model'] in MODELS and is_result(doc['mode'], doc['data'])
    ids = [(r['seed'], r['date'], r['hardware'], r['test_accuracy']) for r in doc['runs']]
    assert len(ids) >= 2 and len(set(ids)) == len(ids) and ids == sorted(ids, key=lambda i: (i[0], i[1]))
    for r in doc['runs']:
        assert r['n_test'] == 7178 and 0 < r['test_accuracy'] < 1 and 0 < r['dedup_test_accuracy'] < 1, r
    published = json.loads((ROOT/'results'/f"{doc['model']}.json").read_text())  # the lesson's own run is one of them
    assert {k: published[k] for k in ('seed', 'test_accuracy')} in [{k: r[k] for k in ('seed', 'test_accuracy')}
                                                                    for r in doc['runs']]

def test_repeat_runs_refuses_runs_of_other_recipes(tmp_path):
    tool = load_tool('repeat_runs')
    rec = dict(model='custom_cnn', mode='full', data='fer2013', precision='mixed_bfloat16', backend='tensorflow',
               n_train=22968, n_val=5741, n_test=7178, params=22813703, selection='best val_loss', seed=42,
               test_accuracy=0.55, dedup_test_accuracy=0.54, date='2026-11-30', hardware='a CPU')
    def run(name, **kw):
        (tmp_path/name).mkdir()
        (tmp_path/name/'result.json').write_text(json.dumps({**rec, **kw}))
        return tmp_path/name
    a, b = run('a'), run('b', seed=1, test_accuracy=0.57, date='2026-12-07')
    doc = tool.collect('custom_cnn', [b, a])
    assert [r['seed'] for r in doc['runs']] == [1, 42] and doc['runs'][0]['test_accuracy'] == 0.57
    again = run('again', date='2026-12-07', hardware='another CPU', test_accuracy=0.56)  # same seed, another run
    assert [r['test_accuracy'] for r in tool.collect('custom_cnn', [again, a/'result.json'])['runs']] == [0.55, 0.56]
    with pytest.raises(SystemExit, match='precision'): tool.collect('custom_cnn', [a, run('c', seed=2, precision='float32')])
    with pytest.raises(SystemExit, match='given twice'): tool.collect('custom_cnn', [a, a/'result.json'])
    with pytest.raises(SystemExit, match='not a full-mode run'): tool.collect('custom_cnn', [a, run('e', seed=3, mode='quick')])
    with pytest.raises(SystemExit, match='at least two'): tool.collect('custom_cnn', [a])
    with pytest.raises(SystemExit, match='is missing'): tool.collect('custom_cnn', [a, tmp_path/'none'])
