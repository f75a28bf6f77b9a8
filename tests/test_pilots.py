"tools/pilots.py --publish: the last record of each pilot, in the tool's order, without times, naming pilots not run."
import json
from conftest import load_tool

def _tool(): return load_tool('pilots')

def test_publish_keeps_the_last_record_of_each_pilot(tmp_path):
    m = _tool()
    rec = lambda name, acc, secs: {'pilot': name, 'change': m.PILOTS[name][0], 'epochs': 12, 'params': 1, 'n_val': 10,
                                   'val_plain': acc, 'val_flip': acc, 'val_18_views': acc,
                                   'seconds_per_epoch': secs, 'wall_seconds': secs*12}
    lines = [rec('mixup', 0.5, 80), rec('base', 0.6, 200), rec('base', 0.6, 205), {**rec('base', 0.6, 1), 'pilot': 'gone'}]
    (tmp_path/'pilots.jsonl').write_text('\n'.join(json.dumps(r) for r in lines) + '\n')
    doc = json.loads(m.publish(tmp_path, tmp_path/'results').read_text())
    assert [r['pilot'] for r in doc['pilots']] == ['base', 'mixup']  # the tool's order; unknown pilots dropped
    assert all('seconds_per_epoch' not in r and 'wall_seconds' not in r for r in doc['pilots'])
    assert doc['not_run'] == [n for n in m.PILOTS if n not in ('base', 'mixup')]
    assert doc['command'].startswith('python tools/pilots.py --epochs 12')

def test_publish_merges_with_the_records_already_published(tmp_path):
    m = _tool()
    rec = lambda name, acc, **kw: {'pilot': name, 'change': m.PILOTS[name][0], 'epochs': 12, 'params': 1, 'n_val': 10,
                                   'val_plain': acc, 'val_flip': acc, 'val_18_views': acc, **kw}
    dest = tmp_path/'results'
    (tmp_path/'pilots.jsonl').write_text(json.dumps(rec('base', 0.6)) + '\n' + json.dumps(rec('se', 0.5)) + '\n')
    m.publish(tmp_path, dest)  # records without a seeding: run before the fix
    (tmp_path/'pilots.jsonl').write_text(json.dumps(rec('base', 0.7, layer_seeds=m.PER_LAYER)) + '\n'
                                         + json.dumps(rec('zoom', 0.65, layer_seeds=m.PER_LAYER)) + '\n')
    doc = json.loads(m.publish(tmp_path, dest).read_text())
    got = [(r['pilot'], r['layer_seeds'], r['val_plain']) for r in doc['pilots']]
    assert got == [('base', m.SHARED, 0.6), ('base', m.PER_LAYER, 0.7), ('se', m.SHARED, 0.5),
                   ('zoom', m.PER_LAYER, 0.65)]
    assert 'zoom' not in doc['not_run'] and 'se' not in doc['not_run'] and 'wide' in doc['not_run']

def test_a_broken_record_file_is_named(tmp_path):
    import pytest
    (tmp_path/'pilots.jsonl').write_text('{"pilot": "base", "chan\n')  # a line cut short by a kill
    with pytest.raises(SystemExit, match='pilots.jsonl: not a pilot record file'): _tool().publish(tmp_path, tmp_path)
