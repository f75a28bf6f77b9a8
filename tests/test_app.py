"`fer-nb app`: the demo page over HTTP, in headless Chromium, and as a command."
import base64, contextlib, io, json, os, re, shutil, signal, socket, subprocess, sys, time, urllib.request, urllib.error
from pathlib import Path
import numpy as np, pytest
from PIL import Image
from fer_nb.app import serve, analyse_image
from fer_nb.data import CLASSES
from fer_nb.predict import load_model
from fer_nb.testing import sample_photos

PHOTOS = sample_photos()
NAME = 'astronaut' if 'astronaut' in PHOTOS else 'grace_hopper'
HAND = {'grace_hopper': [160, 110, 210, 230], 'astronaut': [172, 62, 105, 110]}[NAME]  # the face, marked by hand
CHROMIUM = shutil.which('chromium') or shutil.which('chromium-browser') or shutil.which('google-chrome')

@pytest.fixture(scope='module')
def server():
    s = serve()
    assert s.server_address[0] == '127.0.0.1'
    yield s
    s.shutdown(); s.server_close()

def request(url, data=None):
    "Status and body of a GET (or a POST of `data`), within 60 s."
    try:
        with urllib.request.urlopen(urllib.request.Request(url, data=data), timeout=60) as r: return r.status, r.read()
    except urllib.error.HTTPError as e: return e.code, e.read()

def test_page_and_prediction_over_http(server):
    status, html = request(server.url)
    assert status == 200 and b'type="file"' in html and b'getUserMedia' in html and NAME.encode() in html
    status, body = request(server.url + 'predict', PHOTOS[NAME].read_bytes())
    assert status == 200
    r = json.loads(body)
    assert len(r['faces']) == 1 and set(r['faces'][0]['probabilities']) == set(CLASSES)
    x, y, w, h = r['faces'][0]['box']; X, Y, W, H = HAND
    assert X <= x + w/2 <= X + W and Y <= y + h/2 <= Y + H
    im = Image.open(io.BytesIO(base64.b64decode(r['image'].split(',', 1)[1])))
    assert im.format == 'JPEG' and list(im.size) == r['size'] == list(Image.open(PHOTOS[NAME]).size)
    assert server.predictions >= 1

def test_bad_requests(server):
    status, body = request(server.url + 'predict', b'GIF89a not really')
    assert status == 400 and 'not an image' in json.loads(body)['error']
    assert request(server.url + 'predict', b'')[0] == 400
    assert request(server.url + 'nothing')[0] == 404 and request(server.url + 'sample/../../etc/passwd')[0] == 404

def chromium(*args, timeout=120):
    return subprocess.run([CHROMIUM, '--headless', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage',
                           '--no-first-run', '--hide-scrollbars',
                           f'--user-data-dir={Path(os.environ["HOME"])/"chromium"}',
                           '--virtual-time-budget=60000', *args], capture_output=True, text=True, timeout=timeout)

@pytest.mark.skipif(not CHROMIUM, reason='no chromium on this machine (Debian: apt-get install chromium)')
def test_page_in_headless_chromium(server, tmp_path):
    url = f'{server.url}?demo={NAME}'
    expected = analyse_image(load_model()[0], PHOTOS[NAME].read_bytes())['faces'][0]['emotion']
    dom = chromium('--dump-dom', url).stdout
    assert 'data-state="done"' in dom, dom[-1500:]
    assert re.findall(r'<td class="emotion">(\w+)</td>', dom) == [expected]
    shot = Path(os.environ.get('FER_NB_SCREENSHOT') or tmp_path/'app.png')
    r = chromium(f'--screenshot={shot}', '--window-size=1100,1000', url)
    print(f'screenshot of the demo page: {shot}')
    a = np.asarray(Image.open(shot).convert('RGB')).astype(int)
    assert a.shape[:2] == (1000, 1100) and a.std() > 30, r.stderr[-1500:]
    assert len(np.unique(a.reshape(-1, 3)//8, axis=0)) > 500  # a photograph is on the page, not only text

ENV = {k: v for k, v in os.environ.items() if k != 'TF_CPP_MIN_LOG_LEVEL'}  # let `fer-nb` quieten TensorFlow

def free_port():
    with socket.socket() as s: s.bind(('127.0.0.1', 0)); return s.getsockname()[1]

def test_fer_nb_app_command(tmp_path):
    h = subprocess.run([sys.executable, '-c', 'from fer_nb.cli import main; main(["app", "--help"])'],
                       capture_output=True, text=True)
    assert '--port' in h.stdout and 'webcam' in h.stdout, h.stdout + h.stderr
    port = free_port()
    p = subprocess.Popen([sys.executable, '-c', 'import sys; from fer_nb.cli import main; sys.exit(main())', 'app',
                          '--port', str(port), '--json'], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         env=ENV)
    try:
        line = p.stderr.readline()  # the address, once the server listens
        assert f'http://127.0.0.1:{port}/' in line, line
        assert request(f'http://127.0.0.1:{port}/predict', PHOTOS[NAME].read_bytes())[0] == 200
        p.send_signal(signal.SIGINT)
        out, err = p.communicate(timeout=120)  # a loaded CI machine: Keras and TensorFlow wind down slowly
    finally: p.kill() if p.poll() is None else None
    assert p.returncode == 0, err
    assert json.loads(out) == {'url': f'http://127.0.0.1:{port}/', 'port': port, 'predictions': 1}

@contextlib.contextmanager
def devtools(*flags, timeout=60):
    "A headless Chromium on `about:blank`, driven over the DevTools protocol: yields `call(method, **params)`."
    import websocket  # websocket-client, in the dev extra
    port = free_port()
    p = subprocess.Popen([CHROMIUM, '--headless', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage',
                          f'--user-data-dir={Path(os.environ["HOME"])/"chromium-cdp"}',
                          f'--remote-debugging-port={port}',
                          *flags, 'about:blank'], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(timeout*10):
            try: pages = json.loads(request(f'http://127.0.0.1:{port}/json')[1]); break
            except OSError: time.sleep(.1)
        ws = websocket.create_connection([t for t in pages if t['type'] == 'page'][0]['webSocketDebuggerUrl'],
                                         timeout=timeout)
        ids = iter(range(1, 10**6))
        def call(method, **params):
            n = next(ids); ws.send(json.dumps({'id': n, 'method': method, 'params': params}))
            while (r := json.loads(ws.recv())).get('id') != n: pass
            assert 'error' not in r, r
            return r['result']
        yield call
        ws.close()
    finally: p.kill(); p.wait(10)

@pytest.mark.skipif(not CHROMIUM, reason='no chromium on this machine (Debian: apt-get install chromium)')
def test_webcam_snapshot_in_headless_chromium(server, tmp_path):
    "The webcam path: getUserMedia on Chromium's fake camera, which films a photo, the snapshot button, /predict."
    im = Image.open(PHOTOS[NAME]).convert('RGB'); buf = io.BytesIO(); im.save(buf, 'JPEG', quality=90)
    (tmp_path/'camera.mjpeg').write_bytes(buf.getvalue()*30)  # a Motion-JPEG file: JPEG frames one after another
    expected = analyse_image(load_model()[0], PHOTOS[NAME].read_bytes())['faces'][0]['emotion']
    before = server.predictions
    with devtools('--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream',
                  f'--use-file-for-fake-video-capture={tmp_path/"camera.mjpeg"}') as call:
        call('Browser.grantPermissions', permissions=['videoCapture'], origin=server.url.rstrip('/'))
        call('Page.navigate', url=f'{server.url}?demo=webcam')
        js = "[document.body.dataset.state, $('status').textContent, $('canvas').width, $('video').style.display]"
        for _ in range(600):
            state = call('Runtime.evaluate', expression=js, returnByValue=True)['result'].get('value')
            if state and state[0] in ('done', 'error'): break
            time.sleep(.1)
        cells = call('Runtime.evaluate', returnByValue=True,
                     expression="[...document.querySelectorAll('td.emotion')].map(e => e.textContent)")['result']['value']
    assert state == ['done', f'1 face: {expected} ' + state[1].split()[-1], im.width, 'block'], state
    assert cells == [expected] and server.predictions == before + 1
