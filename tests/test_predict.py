"`fer-nb predict` as users run it: photos shipped by installed packages, images made here, and every kind of bad input."
import argparse, contextlib, io, json, os, subprocess, sys
from pathlib import Path
import numpy as np, pytest
from PIL import Image
from fer_nb.config import FerNbError
from fer_nb.data import CLASSES
from fer_nb.faces import draw_face
from fer_nb.predict import (add_predict_args, predict_command, detect,
                            read_image, BadImage, BadModel, NoImagesProcessed, MARGIN)
from fer_nb.testing import sample_photos, awkward_images, tiny_model
import fer_nb.predict as fp

PHOTOS = sample_photos()
HOPPER = PHOTOS['grace_hopper']
HAND_BOXES = {'grace_hopper': [160, 110, 210, 230], 'astronaut': [172, 62, 105, 110]}  # marked by hand, [x, y, w, h]

@pytest.fixture(scope='session')
def model_file(tmp_path_factory):
    "A small random Keras model with the course contract (48x48x1 uint8 in, 7 probabilities out), saved as model.keras."
    return tiny_model(tmp_path_factory.mktemp('model')/'model.keras')

def predict(*argv, model):
    "Run `fer-nb predict` in-process as the CLI does; return (payload, text, stderr lines)."
    a = add_predict_args(argparse.ArgumentParser()).parse_args([str(x) for x in argv] + ['--model', str(model)])
    err = io.StringIO()
    with contextlib.redirect_stderr(err): payload, text = predict_command(a)
    return payload, text, err.getvalue().splitlines()

def snapshot(folder) -> dict:
    "Bytes and modification time of every file under `folder`."
    files = [p for p in Path(folder).rglob('*') if p.is_file() and not p.is_symlink()]
    return {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in files}

def centre_inside(box, hand) -> bool:
    x, y, w, h = box; X, Y, W, H = hand
    return X <= x + w/2 <= X + W and Y <= y + h/2 <= Y + H

def by_name(payload) -> dict: return {Path(e['path']).name: e for e in payload['images']}

# --- detection

@pytest.mark.parametrize('name', [n for n in HAND_BOXES if n in PHOTOS])
def test_finds_the_face_in_real_photos(name):
    boxes = detect(np.asarray(read_image(PHOTOS[name]).convert('L')))
    assert len(boxes) == 1 and centre_inside(boxes[0], HAND_BOXES[name]), boxes

def _textures():
    rng = np.random.default_rng(0)
    discs = np.full((300, 300), 200, np.uint8)
    import cv2
    for _ in range(40):
        centre = [int(v) for v in rng.integers(0, 300, 2)]
        cv2.circle(discs, centre, int(rng.integers(10, 50)), int(rng.integers(0, 256)), -1)
    return {'noise': rng.integers(0, 256, (300, 300), dtype=np.uint8), 'discs': discs,
            'gradient': np.add.outer(np.arange(300), np.arange(300)).astype(np.uint8)}

@pytest.mark.parametrize('name', ['china', 'flower', 'coins', 'chelsea', 'coffee', 'noise', 'discs', 'gradient'])
def test_no_faces_in_face_free_pictures(name):
    if name in _textures(): gray = _textures()[name]
    elif name in PHOTOS: gray = np.asarray(read_image(PHOTOS[name]).convert('L'))
    else: pytest.skip(f'{name} needs scikit-image')
    assert len(detect(gray)) == 0

def test_detector_defaults_are_the_measured_ones():
    assert (fp.CASCADE, fp.NEIGHBORS) == ('haarcascade_frontalface_alt.xml', 4) and 0 <= MARGIN < 0.1

# --- direct classification of crops

def test_small_images_are_classified_whole(tmp_path, model_file):
    face = draw_face(CLASSES.index('happy'), np.random.default_rng(0))
    Image.fromarray(face).save(tmp_path/'fer_style.png')
    Image.fromarray(face).resize((60, 40)).save(tmp_path/'small_wide.jpg')
    payload, _, err = predict(tmp_path, model=model_file)
    faces = {k: e['faces'] for k, e in by_name(payload).items()}
    assert faces['fer_style.png'][0]['box'] == [0, 0, 48, 48] and len(faces['fer_style.png']) == 1
    assert faces['small_wide.jpg'][0]['box'] == [0, 0, 60, 40] and err == []

def test_crop_and_detect_flags_force_the_behaviour(tmp_path, model_file):
    Image.fromarray(np.full((48, 48), 128, np.uint8)).save(tmp_path/'blank48.png')  # a small image with no face in it
    payload, _, _ = predict(tmp_path/'blank48.png', HOPPER, '--detect', model=model_file)
    assert [len(e['faces']) for e in payload['images']] == [0, 1]
    payload, _, _ = predict(HOPPER, '--crop', model=model_file)
    assert [f['box'] for f in payload['images'][0]['faces']] == [[0, 0, *Image.open(HOPPER).size]]
    with pytest.raises(SystemExit), contextlib.redirect_stderr(io.StringIO()):
        add_predict_args(argparse.ArgumentParser()).parse_args(['x.jpg', '--crop', '--detect'])

# --- the JSON document and batching

def test_json_schema(tmp_path, model_file):
    payload, text, err = predict(HOPPER, model=model_file)
    doc = json.loads(json.dumps(payload))
    assert set(doc) == {'model', 'temperature', 'images'} and doc['model'] == str(model_file) and err == []
    assert doc['temperature'] == 1.0  # no calibration record beside this model file
    (e,) = doc['images']
    assert set(e) == {'path', 'faces', 'error'} and e['path'] == str(HOPPER) and e['error'] is None
    (f,) = e['faces']
    assert set(f) == {'box', 'emotion', 'probabilities'}
    assert len(f['box']) == 4 and all(isinstance(v, int) for v in f['box'])
    p = f['probabilities']
    assert list(p) == list(CLASSES) and f['emotion'] == max(p, key=p.get)
    assert abs(sum(p.values()) - 1) < 1e-3 and str(HOPPER) in text

def test_faces_of_many_images_go_through_the_model_together(tmp_path, model_file, monkeypatch):
    for i in range(5): (tmp_path/f'p{i}.jpg').write_bytes(HOPPER.read_bytes())
    calls, classify = [], fp.classify
    def counting(m, faces, *a, **k): calls.append(len(faces)); return classify(m, faces, *a, **k)
    monkeypatch.setattr(fp, 'classify', counting)
    payload, _, _ = predict(tmp_path, model=model_file)
    assert calls == [5] and sum(len(e['faces']) for e in payload['images']) == 5

# --- bad input

def test_every_bad_input_gets_its_error_and_the_rest_is_processed(tmp_path, model_file):
    d = tmp_path/'photos'
    awkward_images(d)
    (d/'sub').mkdir(); (d/'sub'/'hopper.jpg').write_bytes(HOPPER.read_bytes())
    (d/'readme.txt').write_text('notes'); (d/'.hidden.jpg').write_bytes(b'')  # skipped: not an image suffix, hidden
    (d/'gone.jpg').symlink_to(d/'nowhere.jpg')  # a link to nothing: unreadable
    before = snapshot(d)
    payload, text, err = predict(d, tmp_path/'missing.png', d/'readme.txt', model=model_file)
    got = by_name(payload)
    expected = {'truncated.jpg': 'truncated', 'empty.png': 'empty file', 'notes.jpg': 'not an image',
                'gone.jpg': 'no such file', 'missing.png': 'no such file', 'readme.txt': 'not an image'}
    assert {k: e['error'] for k, e in got.items() if e['error']}.keys() == expected.keys()
    for k, why in expected.items(): assert why in got[k]['error'] and got[k]['faces'] == []
    for k in ('exif_rotated.jpg', 'rgba.png', 'palette.gif', 'cmyk.jpg', 'gray16.png', 'hopper.jpg'):
        assert len(got[k]['faces']) == 1, k
    assert '.hidden.jpg' not in got and len(err) == len(expected)
    assert all(line.startswith('fer-nb predict: ') for line in err) and any('readme.txt' in line for line in err)
    assert snapshot(d) == before

def test_unreadable_file(tmp_path, model_file, monkeypatch):
    "A file the user may not read is one error line; the next photo is still classified."
    p = tmp_path/'locked.jpg'; p.write_bytes(HOPPER.read_bytes()); p.chmod(0)
    if os.name != 'posix' or os.geteuid() == 0:  # permissions do not stop root (as in CI): the OS's refusal, simulated
        real_open = Image.open
        def refuse(f, *a, **kw):
            if Path(f) == p: raise PermissionError(13, 'Permission denied', str(p))
            return real_open(f, *a, **kw)
        monkeypatch.setattr(Image, 'open', refuse)
    payload, _, err = predict(p, HOPPER, model=model_file)
    assert 'permission denied' in payload['images'][0]['error'] and len(err) == 1
    assert len(payload['images'][1]['faces']) == 1

def test_exif_orientation_is_honoured(tmp_path):
    p = awkward_images(tmp_path)['exif_rotated']
    upright = detect(np.asarray(read_image(HOPPER).convert('L')))
    rotated = detect(np.asarray(read_image(p).convert('L')))
    assert len(rotated) == 1 and np.abs(rotated - upright).max() <= 0.1*upright[0, 2]  # re-encoding moves it a little
    assert len(detect(np.asarray(Image.open(p).convert('L')))) == 0  # the pixels as stored lie on their side

def test_pixel_formats_give_the_same_face(tmp_path):
    gray = np.asarray(Image.open(HOPPER).convert('L'))
    files = awkward_images(tmp_path)
    Image.open(HOPPER).convert('LA').save(tmp_path/'la.png')
    Image.fromarray(gray.astype(np.int32)*65537).save(tmp_path/'int32.tif')   # 32-bit integers
    Image.fromarray(gray.astype(np.float32)/255).save(tmp_path/'float.tif')     # floats in [0, 1]
    assert np.array_equal(np.asarray(read_image(files['gray16'])), gray)      # 16-bit scaled back exactly, not clipped
    ref = detect(gray)
    made = [tmp_path/'la.png', tmp_path/'int32.tif', tmp_path/'float.tif']
    for p in [files[k] for k in ('rgba', 'palette', 'cmyk', 'gray16')] + made:
        boxes = detect(np.asarray(read_image(p).convert('L')))
        assert len(boxes) == 1 and np.abs(boxes - ref).max() <= 0.1*ref[0, 2], (p.name, boxes, ref)

def test_transparent_pixels_are_laid_on_white(tmp_path):
    Image.new('RGBA', (80, 80), (0, 0, 0, 0)).save(tmp_path/'clear.png')
    assert np.asarray(read_image(tmp_path/'clear.png').convert('L')).min() == 255

def test_huge_image_boxes_in_original_pixels(tmp_path, model_file):
    big = Image.new('L', (6000, 4000), 90)
    big.paste(Image.open(HOPPER).convert('L').resize((2560, 3000)), (3000, 500))  # Hopper enlarged 5x
    big.save(tmp_path/'big.jpg', quality=80)
    payload, _, _ = predict(tmp_path/'big.jpg', model=model_file)
    (f,) = payload['images'][0]['faces']
    X, Y, W, H = HAND_BOXES['grace_hopper']
    assert centre_inside(f['box'], [3000 + 5*X, 500 + 5*Y, 5*W, 5*H]) and f['box'][2] > 5*100

def test_decompression_bombs_are_refused(tmp_path, model_file, monkeypatch):
    import fer_nb.images as fi
    monkeypatch.setattr(fi, 'MAX_PIXELS', 100_000)
    with pytest.raises(NoImagesProcessed):
        predict(HOPPER, model=model_file)
    with pytest.raises(BadImage, match='more than 100,000 pixels'): read_image(HOPPER)
    monkeypatch.setattr(fi, 'MAX_PIXELS', 10**9)
    monkeypatch.setattr(Image, 'MAX_IMAGE_PIXELS', 1000)  # Pillow's own guard
    with pytest.raises(BadImage, match='decompression bomb'): read_image(HOPPER)

def test_nothing_processed_is_one_error(tmp_path, model_file):
    (tmp_path/'a.jpg').write_bytes(b'')
    (tmp_path/'empty').mkdir()
    with pytest.raises(NoImagesProcessed, match='none of the 1 inputs') as e:
        predict(tmp_path/'a.jpg', model=model_file)
    assert '\n' not in str(e.value)
    with pytest.raises(NoImagesProcessed, match='no image files'): predict(tmp_path/'empty', model=model_file)

# --- annotated copies

def test_annotated_copies_never_overwrite_inputs(tmp_path, model_file):
    d = tmp_path/'photos'; (d/'sub').mkdir(parents=True)
    (d/'hopper.jpg').write_bytes(HOPPER.read_bytes()); (d/'sub'/'hopper.jpg').write_bytes(HOPPER.read_bytes())
    (d/'hopper_emotions.jpg').write_bytes(HOPPER.read_bytes())  # an input that has the name a copy would take
    Image.open(HOPPER).save(d/'scan.gif')
    before = snapshot(d)
    payload, text, _ = predict(d, '--out', d, model=model_file)  # copies written into the input folder itself
    assert snapshot(d).items() >= before.items()  # every input still there, byte for byte
    rel = lambda p: Path(p).relative_to(d).as_posix()
    copies = {rel(e['path']): rel(e['annotated']) for e in payload['images']}
    assert copies == {'hopper.jpg': 'hopper_emotions_2.jpg', 'hopper_emotions.jpg': 'hopper_emotions_emotions.jpg',
                      'scan.gif': 'scan_emotions.png', 'sub/hopper.jpg': 'sub/hopper_emotions.jpg'}
    drawn = np.asarray(Image.open(d/'hopper_emotions_2.jpg').convert('RGB'), int)
    plain = np.asarray(Image.open(HOPPER), int)
    assert drawn.shape == plain.shape and np.abs(drawn - plain).max() > 100  # boxes and labels are drawn
    assert 'annotated copies in' in text and not list(d.glob('**/.*.tmp'))

def test_annotated_copies_in_another_folder_and_rerun(tmp_path, model_file):
    d, out = tmp_path/'photos', tmp_path/'photos'/'annotated'
    files = awkward_images(d)
    predict(d, '--out', out, model=model_file)
    payload, _, _ = predict(d, '--out', out, model=model_file)  # again: the copies inside photos/ are not inputs
    assert not any('annotated' in Path(e['path']).parts for e in payload['images'])
    good = [p for k, p in files.items() if k not in ('truncated', 'empty', 'not_an_image')]
    names = [f'{p.stem}_emotions{".jpg" if p.suffix == ".jpg" else ".png"}' for p in good]
    again = [n.replace('_emotions.', '_emotions_2.') for n in names]  # the first run's copies are kept
    assert sorted(p.name for p in out.iterdir()) == sorted(names + again)
    assert Image.open(out/'exif_rotated_emotions.jpg').size == Image.open(HOPPER).size  # written upright

def test_out_must_be_a_folder(tmp_path, model_file):
    (tmp_path/'file').write_text('x')
    with pytest.raises(FerNbError, match='not a folder'): predict(HOPPER, '--out', tmp_path/'file', model=model_file)

# --- models

def test_model_errors(tmp_path, model_file):
    with pytest.raises(BadModel, match='no such model file'): predict(HOPPER, model=tmp_path/'none.keras')
    (tmp_path/'junk.keras').write_text('junk')
    with pytest.raises(BadModel, match='not a Keras model'): predict(HOPPER, model=tmp_path/'junk.keras')

def test_default_model_names_what_to_train(monkeypatch):
    "An install without the shipped weights (a source checkout before training) says what to train."
    import fer_nb.pretrained
    monkeypatch.setattr(fer_nb.pretrained, 'pretrained_path', lambda: Path('/nonexistent')/fer_nb.pretrained.PRETRAINED)
    a = add_predict_args(argparse.ArgumentParser()).parse_args([str(HOPPER)])
    with pytest.raises(FerNbError, match=f'fer-nb train {fer_nb.pretrained.SHIPPED}') as e: predict_command(a)
    assert '\n' not in str(e.value)

# --- the real command line, once the CLI wires `fer-nb predict`

def test_importing_predict_stays_light():
    code = ('import sys, fer_nb.predict; bad = [m for m in ("keras", "tensorflow", "cv2") if m in sys.modules]; '
            'assert not bad, bad')
    r = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr

def cli(*args):
    code = 'import sys; from fer_nb.cli import main; sys.exit(main())'
    return subprocess.run([sys.executable, '-c', code, *map(str, args)], capture_output=True, text=True, timeout=600)

def test_cli_json_and_exit_status(tmp_path, model_file):
    (tmp_path/'bad.jpg').write_bytes(b'junk')
    r = cli('predict', HOPPER, tmp_path/'bad.jpg', '--model', model_file, '--json')
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert [len(e['faces']) for e in doc['images']] == [1, 0] and 'not an image' in doc['images'][1]['error']
    assert f"{tmp_path/'bad.jpg'}: not an image" in r.stderr
    r = cli('predict', tmp_path/'bad.jpg', '--model', model_file, '--json')
    assert r.returncode == 1 and r.stdout == '' and 'none of the 1 inputs' in r.stderr.strip().splitlines()[-1]
