"""The README's main job, `fer-nb course` in quick mode on synthetic faces, run once and checked twice.

It is the suite's longest test (the course's models trained), so `conftest.py` starts it in the background when the
session starts (a subprocess with a clean environment: no dataset, its own cache and home), and these tests wait for it."""
import json
from pathlib import Path
import pytest
from fer_nb.config import MODELS, COURSE
from conftest import consistent, quick_course_result

@pytest.fixture(scope='session')
def quick_course(pytestconfig):
    "`fer-nb course --mode quick` on synthetic faces, run once per test session: (process, results folder)."
    return quick_course_result(pytestconfig)

def test_cli_course_quick_writes_the_comparison(quick_course):
    "The README's main job: the course's models trained, one comparison that says quick-mode numbers are not results."
    p, root = quick_course
    assert p.returncode == 0, p.stderr[-2000:]
    out = json.loads((root/'comparison.json').read_text())
    assert [r['model'] for r in out['results']] == COURSE and out['data'] == 'synthetic'
    for r in out['results']: consistent(r)
    md = Path(out['comparison_md']).read_text()
    assert 'not results' in md and md.count('| Model ') == len(COURSE)
    assert out['mode'] == 'quick'

def test_quick_course_learns_on_synthetic_faces(quick_course):
    "The embedded default a new user runs first: quick mode on synthetic faces must show Models 1 and 2 learning."
    p, root = quick_course
    assert p.returncode == 0, p.stderr[-2000:]
    res = json.loads((root/'comparison.json').read_text())
    assert (res['mode'], res['data'], res['result']) == ('quick', 'synthetic', False)
    for r in res['results']:
        consistent(r)
        assert r['epochs_run'] == MODELS[r['model']].quick_epochs
        if r['model'] in ('custom_cnn', 'custom_cnn_aug'):
            assert r['test_accuracy'] >= 0.85, r  # 94-96% on the course's CPU; 1/7 is chance
    assert p.stdout.count('QUICK MODE on synthetic faces') == len(COURSE) and 'not results' in p.stdout
