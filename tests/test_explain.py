"`fer-nb predict --explain` as users run it, and Grad-CAM on the shipped model."
import contextlib, io, json
from pathlib import Path
import numpy as np, pytest
from fer_nb.testing import sample_photos, tiny_model

HOPPER = sample_photos()['grace_hopper']

@pytest.fixture(scope='module')
def conv_model(tmp_path_factory):
    "A small random course-contract model with a spatial layer before its classifier, saved as model.keras."
    return tiny_model(tmp_path_factory.mktemp('model')/'model.keras', pool='flatten')

def run(*argv):
    "Run `fer-nb` in-process; return (exit status, stdout, stderr)."
    from fer_nb.cli import main
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err): rc = main([str(a) for a in argv])
    return rc, out.getvalue(), err.getvalue()

def test_explain_writes_new_files_beside_the_annotated_copies(tmp_path, conv_model):
    photos = tmp_path/'photos'; photos.mkdir(); (photos/'me.jpg').write_bytes(HOPPER.read_bytes())
    src = (photos/'me.jpg').read_bytes()
    rc, out, err = run('predict', photos, '--model', conv_model, '--out', tmp_path/'out', '--explain', '--json')
    assert rc == 0, err
    (e,) = json.loads(out)['images']
    first = Path(e['explained'])
    assert first == tmp_path/'out'/'me_emotions_gradcam.jpg' and Path(e['annotated']).parent == first.parent
    before = first.read_bytes()
    rc, out, err = run('predict', photos, '--model', conv_model, '--out', tmp_path/'out', '--explain', '--json')
    (e,) = json.loads(out)['images']
    assert rc == 0 and Path(e['explained']).name == 'me_emotions_2_gradcam.jpg'  # new files, the first untouched
    assert Path(e['annotated']).name == 'me_emotions_2.jpg'
    assert first.read_bytes() == before and (photos/'me.jpg').read_bytes() == src

def test_explain_needs_out_and_a_convolution(tmp_path, conv_model):
    rc, out, err = run('predict', HOPPER, '--model', conv_model, '--explain')
    assert rc == 1 and out == '' and err.strip().endswith('add --out DIR') and len(err.strip().splitlines()) == 1
    import keras
    dense = keras.Sequential([keras.Input((48, 48, 1)), keras.layers.Flatten(), keras.layers.Dense(7, activation='softmax')])
    dense.save(tmp_path/'dense.keras')
    rc, out, err = run('predict', HOPPER, '--model', tmp_path/'dense.keras', '--out', tmp_path/'o', '--explain')
    assert rc == 1 and 'no convolutional feature maps' in err and len(err.strip().splitlines()) == 1

def test_gradcam_of_the_shipped_model_on_drawn_faces():
    from fer_nb.explain import gradcam
    from fer_nb.faces import synthetic_faces
    from fer_nb.predict import load_model
    model, _ = load_model()  # calibrated: the temperature on top must not get in the way
    x, y = synthetic_faces(1, seed=0)
    heat, c = gradcam(model, x)
    top = heat.max((1, 2))
    assert heat.shape == (len(x), 48, 48) and heat.min() >= 0 and np.isin(top, [0, 1]).all() and (top == 1).mean() > 0.5
    assert heat[:, :4].max() == 0 and heat[:, -4:].max() == 0  # the border Model 5 crops away
    assert (c == np.asarray(model.predict(x[..., None], verbose=0)).argmax(1)).all()
