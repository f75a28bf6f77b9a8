"Data layer on datasets built inside the tests, plus exact counts on the real FER-2013 when it is configured."
import shutil, tarfile, zipfile
import numpy as np, pytest
from pathlib import Path
from PIL import Image
from fer_nb.data import (CLASSES, DatasetError, DatasetNotFound, find_dataset, extract, load_fer,
                         train_val_split, quarantine)
from fer_nb.testing import make_fake_fer
from conftest import real_source

def _zip_dir(folder, dest):
    return Path(shutil.make_archive(str(dest), 'zip', folder))

def test_valid_jpegs_load_with_aligned_labels(tmp_path):
    root = make_fake_fer(tmp_path/'fer', n=3)
    d = load_fer(root, verbose=False)
    assert d.x_train.shape == (21, 48, 48) and d.x_train.dtype == np.uint8
    assert [CLASSES[y] for y in d.y_test] == [p.split('/')[1] for p in d.p_test]
    # pixels really come from the files they are labelled with
    i = 5
    assert (d.x_train[i] == np.asarray(Image.open(root/d.p_train[i]))).all()

def test_broken_files_are_listed_and_left_in_place(tmp_path):
    root = make_fake_fer(tmp_path/'fer', n=2)
    good = next((root/'train'/'happy').iterdir()).read_bytes()
    broken = {'empty.jpg': b'', 'text.jpg': b'hello', 'truncated.jpg': good[:200]}
    for n, b in broken.items(): (root/'train'/'angry'/n).write_bytes(b)
    Image.new('RGBA', (100, 80), (200, 10, 10, 255)).save(root/'test'/'sad'/'PublicTest_big.png')
    before = {p: p.read_bytes() for p in root.rglob('*') if p.is_file()}
    d = load_fer(root, verbose=False)
    reasons = {Path(p['path']).name: p['reason'] for p in d.problems}
    assert set(reasons) == set(broken)
    assert reasons['empty.jpg'] == 'empty file' and reasons['text.jpg'] == 'not an image'
    assert d.counts()['test']['sad'] == 3  # the PNG was converted, not dropped
    assert {p: p.read_bytes() for p in root.rglob('*') if p.is_file()} == before

def test_quarantine_moves_only_when_asked_and_never_overwrites(tmp_path):
    root = make_fake_fer(tmp_path/'fer', n=1)
    (root/'test'/'fear'/'bad.jpg').write_bytes(b'')
    probs = load_fer(root, verbose=False).problems
    moved = quarantine(probs, root, tmp_path/'q')
    assert moved == [tmp_path/'q'/'test'/'fear'/'bad.jpg'] and moved[0].exists()
    (root/'test'/'fear'/'bad.jpg').write_bytes(b'')
    with pytest.raises(DatasetError, match='not moving anything'): quarantine(probs, root, tmp_path/'q')
    assert (root/'test'/'fear'/'bad.jpg').exists()  # nothing moved, nothing overwritten

def test_zip_is_extracted_once_and_reused(tmp_path, monkeypatch):
    monkeypatch.delenv('FER2013_DIR', raising=False); monkeypatch.delenv('FER2013_ZIP', raising=False)
    z = _zip_dir(make_fake_fer(tmp_path/'fer'), tmp_path/'fer2013')
    r1 = find_dataset(z)
    marker = [p for p in r1.parent.rglob('.fer_nb_extracted')][0]
    t = marker.stat().st_mtime_ns
    assert find_dataset(z) == r1 and marker.stat().st_mtime_ns == t
    assert find_dataset(download=False) == r1  # found again through the cache

def test_hostile_zip_member_is_refused(tmp_path):
    z = tmp_path/'evil.zip'
    with zipfile.ZipFile(z, 'w') as f:
        f.writestr('train/angry/a.jpg', b'x'); f.writestr('../../outside.txt', b'x'); f.writestr('/abs.txt', b'x')
    with pytest.raises(DatasetError, match='outside'): extract(z, tmp_path/'out')
    assert not (tmp_path/'outside.txt').exists() and not list((tmp_path/'out').rglob('*.txt'))

def test_tar_with_link_is_refused(tmp_path):
    t = tmp_path/'evil.tar.xz'
    with tarfile.open(t, 'w:xz') as f:
        info = tarfile.TarInfo('train/link'); info.type = tarfile.SYMTYPE; info.linkname = '/etc/passwd'; f.addfile(info)
    with pytest.raises(DatasetError, match='link or special file'): extract(t, tmp_path/'out')

def test_tar_xz_works_like_zip(tmp_path):
    root = make_fake_fer(tmp_path/'fer')
    t = tmp_path/'fer2013.tar.xz'
    with tarfile.open(t, 'w:xz') as f: f.add(root, arcname='.')
    d = load_fer(find_dataset(t), verbose=False)
    assert len(d.y_train) == 14 and len(d.y_test) == 14

def test_missing_class_folder_is_named(tmp_path):
    root = make_fake_fer(tmp_path/'fer')
    shutil.rmtree(root/'train'/'surprise')
    with pytest.raises(DatasetError, match=r'missing train/surprise/$'): find_dataset(root)

def test_empty_folder_and_empty_split(tmp_path):
    (tmp_path/'empty').mkdir()
    with pytest.raises(DatasetError, match='missing train/, test/'): find_dataset(tmp_path/'empty')
    root = make_fake_fer(tmp_path/'fer')
    for c in CLASSES:
        for f in (root/'test'/c).iterdir(): f.unlink()
    with pytest.raises(DatasetError, match='no image files in test/'): load_fer(root)

def test_corrupt_zip_and_missing_path(tmp_path):
    (tmp_path/'bad.zip').write_bytes(b'PK\x03\x04garbage')
    with pytest.raises(DatasetError, match='not a readable zip'): find_dataset(tmp_path/'bad.zip')
    with pytest.raises(DatasetError, match='does not exist'): find_dataset(tmp_path/'nope.zip')
    assert (tmp_path/'bad.zip').read_bytes() == b'PK\x03\x04garbage'

def test_no_dataset_no_credentials_is_one_clear_message(monkeypatch):
    monkeypatch.delenv('FER2013_DIR', raising=False); monkeypatch.delenv('FER2013_ZIP', raising=False)
    with pytest.raises(DatasetNotFound, match='KAGGLE_USERNAME') as e: find_dataset()
    assert '\n' not in str(e.value)

def test_cache_is_invalidated_by_a_changed_file(tmp_path):
    root = make_fake_fer(tmp_path/'fer')
    a = load_fer(root, verbose=False)
    Image.fromarray(np.zeros((48, 48), np.uint8)).save(root/'train'/'angry'/'Training_00000.jpg')
    b = load_fer(root, verbose=False)
    assert not (a.x_train[0] == b.x_train[0]).all() and (b.x_train[0] == 0).all()

def test_split_is_stratified_and_aligned():
    y = np.repeat(np.arange(7), [3995, 436, 4097, 7215, 4965, 4830, 3171])
    idx = np.arange(len(y))
    it, yt, iv, yv = train_val_split(idx, y)
    assert (len(yt), len(yv)) == (22968, 5741)
    assert (y[it] == yt).all() and (y[iv] == yv).all() and not set(it) & set(iv)
    assert np.abs(np.bincount(yv)/len(yv) - np.bincount(y)/len(y)).max() < 1e-3

@pytest.mark.skipif(not real_source(), reason='set FER2013_ZIP or FER2013_DIR to test on the real FER-2013')
def test_real_fer2013_counts(real_cache, monkeypatch):
    monkeypatch.setenv('FER_NB_CACHE', str(real_cache))
    d = load_fer(find_dataset(), verbose=False)
    assert d.counts() == {
        'train': dict(zip(CLASSES, [3995, 436, 4097, 7215, 4965, 4830, 3171])),
        'test': dict(zip(CLASSES, [958, 111, 1024, 1774, 1233, 1247, 831]))}
    assert d.problems == [] and d.x_train.shape == (28709, 48, 48)
    names = [p.split('/')[-1] for p in d.p_test]
    assert sum(n.startswith('PublicTest_') for n in names) == sum(n.startswith('PrivateTest_') for n in names) == 3589

def test_kaggle_failure_is_one_line_without_the_key(monkeypatch, tmp_path):
    "With credentials that cannot work (and no route to Kaggle, as in CI) the message is one line and never shows the key."
    monkeypatch.delenv('FER2013_DIR', raising=False); monkeypatch.delenv('FER2013_ZIP', raising=False)
    monkeypatch.setenv('KAGGLE_USERNAME', 'fer-nb-test-user'); monkeypatch.setenv('KAGGLE_KEY', 'not-a-real-key-0123456789')
    with pytest.raises(DatasetError) as e: find_dataset()
    msg = str(e.value)
    assert 'msambare/fer2013' in msg and 'not-a-real-key-0123456789' not in msg and '\n' not in msg
    assert not (tmp_path/'cache'/'download'/'fer2013.zip').exists()

def test_truncated_tar_xz_is_a_clear_error(tmp_path):
    root = make_fake_fer(tmp_path/'fer')
    t = tmp_path/'fer2013.tar.xz'
    with tarfile.open(t, 'w:xz') as f: f.add(root, arcname='.')
    cut = tmp_path/'cut.tar.xz'; cut.write_bytes(t.read_bytes()[:len(t.read_bytes())//2])
    with pytest.raises(DatasetError, match='not a readable zip or tar'): find_dataset(cut)
    assert not [p for p in (tmp_path/'cache'/'extracted').iterdir() if p.name.startswith('cut')]

def test_tar_without_the_safe_filter_is_a_clear_error(tmp_path, monkeypatch):
    "On a Python whose tarfile lacks the 'data' filter, a tar archive is refused with the versions that have it."
    src = make_fake_fer(tmp_path/'fer')
    with tarfile.open(tmp_path/'fer2013.tar', 'w') as t: t.add(src, arcname='fer2013')
    monkeypatch.delattr(tarfile, 'data_filter')
    with pytest.raises(DatasetError, match=r'fer2013\.tar: extracting a tar archive safely needs Python 3\.10\.12'):
        extract(tmp_path/'fer2013.tar', tmp_path/'out')
    assert not (tmp_path/'out').exists() or not any((tmp_path/'out').iterdir())
