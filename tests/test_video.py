"`fer-nb predict clip.mp4` and `fer_nb.video.frames_emotions` on clips written here from photographs."
import csv, json, os, subprocess, sys
from pathlib import Path
import numpy as np, pytest
from PIL import Image
from fer_nb.cli import main
from fer_nb.data import CLASSES
from fer_nb.predict import load_model
from fer_nb.testing import sample_photos
from fer_nb.video import frames_emotions, open_video, BadVideo

PHOTOS = sample_photos()
FPS, N, GAP = 8., 16, range(6, 10)  # 2 s at 8 frames/s; frames 6-9 hold no face

def _photo(name, height):
    "A sample photo as BGR pixels, `height` pixels high."
    with Image.open(PHOTOS[name]) as im: im = im.convert('RGB')
    return np.asarray(im.resize((round(im.width*height/im.height), height)))[..., ::-1]

@pytest.fixture(scope='module')
def clip(tmp_path_factory):
    "Two faces (the astronaut drifting right, Grace Hopper still) side by side, then none in frames 6-9, then both."
    import cv2
    if 'astronaut' not in PHOTOS: pytest.skip('the astronaut photo needs scikit-image (the dev extra)')
    left, right = _photo('astronaut', 300), _photo('grace_hopper', 300)
    p = tmp_path_factory.mktemp('clip')/'two faces.mp4'
    w = cv2.VideoWriter(str(p), cv2.VideoWriter_fourcc(*'mp4v'), FPS, (720, 360))
    for i in range(N):
        f = np.full((360, 720, 3), 110, np.uint8)
        if i not in GAP:
            f[30:330, 10 + 3*i:10 + 3*i + left.shape[1]] = left; f[30:330, 700 - right.shape[1]:700] = right
        w.write(f)
    w.release()
    return p

@pytest.fixture(scope='module')
def model(): return load_model()[0]

def snapshot(p): return p.read_bytes(), p.stat().st_mtime_ns

def test_python_api_timeline_and_ids(clip, model):
    tl = list(frames_emotions(clip, model, every=2))
    assert [r['frame'] for r in tl] == list(range(0, N, 2))
    assert [r['time'] for r in tl] == [round(i/FPS, 4) for i in range(0, N, 2)]
    assert [len(r['faces']) for r in tl] == [0 if i in GAP else 2 for i in range(0, N, 2)]
    ids = [[f['id'] for f in r['faces']] for r in tl if r['faces']]  # faces come left to right
    assert ids == [[1, 2]]*len(ids), ids  # each face keeps its id, across the 0.5 s without faces too
    xs = [r['faces'][0]['box'][0] for r in tl if r['faces']]
    assert xs == sorted(xs) and xs[-1] - xs[0] > 20  # the drifting face is followed as it moves
    for r in tl:
        for f in r['faces']: assert abs(sum(f['probabilities'].values()) - 1) < 1e-3 and f['emotion'] in CLASSES

def test_smoothing_averages_the_last_k_frames(clip, model):
    raw, sm = (list(frames_emotions(clip, model, every=2, smooth=k)) for k in (1, 3))
    p = lambda tl, j: np.array([tl[j]['faces'][0]['probabilities'][c] for c in CLASSES])
    assert np.allclose(p(sm, 2), (p(raw, 0) + p(raw, 1) + p(raw, 2))/3, atol=2e-4)
    assert np.allclose(p(sm, 0), p(raw, 0), atol=1e-4)

# in-process runs of `main` set TF_CPP_MIN_LOG_LEVEL, which would stop `fer-nb` quietening TensorFlow in subprocesses
ENV = {k: v for k, v in os.environ.items() if k != 'TF_CPP_MIN_LOG_LEVEL'}

def run(*args):
    return subprocess.run([sys.executable, '-c', 'import sys; from fer_nb.cli import main; sys.exit(main())',
                           *map(str, args)], capture_output=True, text=True, timeout=600, env=ENV)

def test_cli_writes_timeline_video_and_plot(clip, tmp_path, capsys):
    before = snapshot(clip)
    r = run('predict', clip, '--every', '2', '--out', tmp_path/'out', '--json')
    assert r.returncode == 0, r.stderr[-2000:]
    out = json.loads(r.stdout)
    assert set(out) == {'model', 'videos'} and len(out['videos']) == 1
    v = out['videos'][0]
    assert (v['every'], v['sampled'], v['frames'], v['error']) == (2, N//2, N, None)
    assert set(v['faces']) == {'1', '2'} and v['faces']['1']['frames'] == N//2 - 2
    rows = list(csv.DictReader(open(v['csv'])))  # a row per face per frame, one empty row per frame without faces
    assert [(int(x['frame']), x['face']) for x in rows][:3] == [(0, '1'), (0, '2'), (2, '1')]
    assert [x['face'] for x in rows if int(x['frame']) in GAP] == ['', '']
    assert float(rows[-1]['time']) == (N - 2)/FPS and rows[-1]['emotion'] in CLASSES
    cap, info = open_video(v['annotated']); cap.release()
    assert info['frames'] == v['sampled'] and info['fps'] == FPS/2  # one frame per sampled frame, same duration
    plot = np.asarray(Image.open(v['plot']).convert('L'))
    assert plot.std() > 20 and len(np.unique(plot)) > 50, 'the plot looks blank'
    assert snapshot(clip) == before
    csv_before = snapshot(Path(v['csv']))
    # a second run never overwrites: new names
    assert main(['predict', str(clip), '--fps', '2', '--out', str(tmp_path/'out'), '--json', '--no-progress']) == 0
    v2 = json.loads(capsys.readouterr().out)['videos'][0]
    assert Path(v2['annotated']).name == 'two faces_emotions_2.mp4' and v2['every'] == 4
    assert len(list((tmp_path/'out').iterdir())) == 6 and snapshot(Path(v['csv'])) == csv_before

def test_photos_and_videos_together(clip, tmp_path, capsys):
    assert main(['predict', str(clip), str(PHOTOS['grace_hopper']), '--every', '8', '--out', str(tmp_path),
                 '--json']) == 0
    out = json.loads(capsys.readouterr().out)
    assert [len(e['faces']) for e in out['images']] == [1] and [v['sampled'] for v in out['videos']] == [2]

def test_progress_bar_on_stderr(clip, tmp_path, capsys):
    assert main(['predict', str(clip), '--out', str(tmp_path)]) == 0
    cap = capsys.readouterr()
    assert 'two faces.mp4' in cap.err and 'frame' in cap.err and 'face 2:' in cap.out

def test_corrupt_video_is_one_line(tmp_path):
    bad = tmp_path/'broken.mp4'; content = np.random.default_rng(0).bytes(4096); bad.write_bytes(content)
    r = run('predict', bad, '--out', tmp_path/'out')
    assert r.returncode == 1 and r.stdout == ''
    assert r.stderr == f'fer-nb predict: {bad}: not a video, or damaged: OpenCV cannot decode a frame\n', r.stderr
    assert bad.read_bytes() == content and not (tmp_path/'out').exists()

@pytest.mark.parametrize('name,content,reason', [
    ('empty.mp4', b'', 'empty file'), ('missing.mov', None, 'no such file'),
    ('header_only.mp4', b'\x00\x00\x00\x18ftypmp42' + bytes(range(256))*8, 'not a video, or damaged'),
    ('truncated.mp4', 'half of the clip', 'not a video, or damaged')])
def test_unreadable_videos_have_one_reason(tmp_path, capfd, clip, name, content, reason):
    "One line on stderr, file descriptor 2 included: FFmpeg's own complaints (the clip fixture set up its log) hidden."
    p = tmp_path/name
    if content == 'half of the clip': content = clip.read_bytes()[:clip.stat().st_size//2]
    if content is not None: p.write_bytes(content)
    assert main(['predict', str(p), '--out', str(tmp_path/'out')]) == 1
    err = capfd.readouterr().err
    assert err.count('\n') == 1 and err.startswith(f'fer-nb predict: {p}: {reason}'), err

def test_bad_settings(clip, tmp_path, capsys):
    assert main(['predict', str(clip), '--smooth', '0']) == 1
    assert main(['predict', str(clip), '--out', str(clip)]) == 1
    err = capsys.readouterr().err.splitlines()
    assert '--smooth 0' in err[0] and 'is a file, not a folder' in err[1]
    with pytest.raises(BadVideo, match='no such file'): next(frames_emotions(tmp_path/'none.mp4', None))
