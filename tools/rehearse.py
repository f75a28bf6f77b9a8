"""Rehearse the GPU run on any machine: full mode's code path for the course models on a small slice, per backend.

    python tools/rehearse.py                        # TensorFlow then JAX, every course model, 2 epochs
    python tools/rehearse.py --backends jax --models model5_compact --per-class 10 --epochs 1

Each backend runs in its own process (Keras picks its backend once) through `fer_nb.course.train`, the function the
model notebooks and `fer-nb train` use, with full mode's settings: the precision `choose_precision()` picks
(FER_NB_PRECISION overrides it), Keras' compilation choice (`compile_model`), each model's own batch size, learning
rate, optimizer, early stopping or schedule, class weights and test-time augmentation, the course's callbacks
(checkpoint, backup, log) and the whole evaluation. Only the amounts shrink: `--per-class` images per class for
training and testing, `--epochs` epochs, `--size` pixels for the transfer models, ImageNet weights only if they are
on disk (else random weights, with a warning). With no accelerator, `--cpu-devices` virtual CPUs (default 2) stand in
for several GPUs, so data-parallel training is rehearsed too.

Data: the real FER-2013 from FER2013_ZIP / FER2013_DIR (or `--data`); synthetic faces if it is absent, and the
output says so. Every line printed says REHEARSAL, every record has mode 'rehearsal' (never a result: see
`fer_nb.config.is_result`), and everything is written into a NEW folder (`--out`, default a fresh temporary one),
never into a results folder. tools/run_notebooks.py refuses any notebook output mentioning REHEARSAL.
"""
import argparse, dataclasses, json, os, subprocess, sys, tempfile, time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BACKENDS = ('tensorflow', 'jax')
TAG = 'REHEARSAL'

def _say(*a): print(TAG, *a, flush=True)

def check_out(out:Path) -> Path:
    "`out` resolved, if it is a new folder outside every results folder; else exit with the reason."
    from fer_nb.config import results_root
    out = out.expanduser().resolve()
    if out.exists(): raise SystemExit(f"{out} already exists: a rehearsal writes only into a new folder")
    for real in (ROOT/'results', results_root().resolve()):
        if out == real or real in out.parents:
            raise SystemExit(f"{out} is inside the results folder {real}: a rehearsal never writes there")
    return out

def worker(a):
    "Rehearse every model of `a.models` under this process's backend (set by the parent)."
    backend = os.environ['KERAS_BACKEND']
    if a.cpu_devices > 1 and backend == 'tensorflow':
        import tensorflow as tf  # logical CPUs must be set before TensorFlow starts
        cpus = tf.config.list_physical_devices('CPU')
        tf.config.set_logical_device_configuration(cpus[0], [tf.config.LogicalDeviceConfiguration()]*a.cpu_devices)
    import keras
    from fer_nb.config import Config, COURSE, choose_precision, has_accelerator, set_seed, backend_report, result_label
    from fer_nb.config import data_source
    from fer_nb.datasets import load_data
    from fer_nb.course import train, comparison
    if a.cpu_devices > 1 and not has_accelerator(): os.environ['FER_NB_DEVICES'] = str(a.cpu_devices)
    precision = choose_precision(override=os.environ.get('FER_NB_PRECISION'))
    # the course's settings (full mode's), on a few images per class for a few epochs: not a result
    cfg = dataclasses.replace(Config.for_mode('full', root=Path(a.out)/backend, img_size=a.size,
                                              train_per_class=a.per_class, test_per_class=a.per_class,
                                              max_epochs=a.epochs, precision=precision,
                                              data=a.data or (data_source() or (None, None))[1]),
                              mode='rehearsal', why='tools/rehearse.py')
    set_seed(cfg.seed); keras.config.set_dtype_policy(precision)
    _say(f"{backend}: {backend_report()} · precision {precision} · results in {cfg.root} (not a results folder)")
    data = load_data(cfg, verbose=False)
    if data.source == 'synthetic': _say(f"{backend}: FER-2013 not found (set FER2013_ZIP): SYNTHETIC faces instead")
    _say(f"{backend}: {a.per_class} images per class, {a.epochs} epoch(s), {result_label('rehearsal', data.source)}")
    results, t0 = [], time.time()
    for n in a.models or COURSE:
        t = time.time()
        r = train(n, cfg, data, epochs=a.epochs, verbose=0)
        results.append(r)
        _say(f"{backend} {n}: {r['epochs_run']} epoch(s) on {', '.join(r['devices'])}, test accuracy "
             f"{r['test_accuracy']:.1%} (not a result), {time.time() - t:.0f} s")
    (cfg.root/'comparison.md').write_text(comparison(results, cfg.mode, data.source))
    print(json.dumps({'backend': backend, 'data': data.source, 'precision': precision, 'seconds': time.time() - t0,
                      'models': {r['model']: {'test_accuracy': r['test_accuracy'], 'devices': r['devices'],
                                              'result': r['result'], 'mode': r['mode']} for r in results}}))

def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('--backends', nargs='+', default=list(BACKENDS), choices=BACKENDS)
    p.add_argument('--models', nargs='+', help="models (default: the course's, `config.COURSE`)")
    p.add_argument('--per-class', type=int, default=10, help='training and test images per class (at least 10)')
    p.add_argument('--epochs', type=int, default=2)
    p.add_argument('--size', type=int, default=64, help="transfer models' input side (224 in full mode)")
    p.add_argument('--cpu-devices', type=int, default=2, help='virtual CPU devices when there is no accelerator')
    p.add_argument('--data', help='FER-2013 zip or folder (default: FER2013_ZIP / FER2013_DIR)')
    p.add_argument('--out', type=Path, help='a new folder for the rehearsal (default: a fresh temporary one)')
    p.add_argument('--json', action='store_true', help='print one JSON summary instead of the REHEARSAL lines')
    p.add_argument('--worker', action='store_true', help=argparse.SUPPRESS)
    a = p.parse_args(argv)
    if a.per_class < 10: p.error('--per-class must be at least 10 (Model 5 holds out 10% for validation, 7 classes)')
    if a.models:
        from fer_nb.config import MODELS
        if bad := [m for m in a.models if m not in MODELS]:
            p.error(f"unknown model(s) {bad}; choose from {list(MODELS)}")
    if a.worker: return worker(a)
    out = check_out(a.out) if a.out else Path(tempfile.mkdtemp(prefix='fer_nb_REHEARSAL_'))
    out.mkdir(parents=True, exist_ok=True)
    (out/'REHEARSAL.txt').write_text('Outputs of tools/rehearse.py: they show the code runs; they are not results.\n')
    summary = {'rehearsal': True, 'out': str(out), 'backends': {}}
    args = [a2 for a2 in (argv if argv is not None else sys.argv[1:]) if a2 != '--json']
    for be in a.backends:
        env = {**os.environ, 'KERAS_BACKEND': be, 'TF_CPP_MIN_LOG_LEVEL': '3'}
        if a.cpu_devices > 1 and be == 'jax':
            env['XLA_FLAGS'] = f"{env.get('XLA_FLAGS', '')} --xla_force_host_platform_device_count={a.cpu_devices}"
        if not a.json: _say(f"{be}: starting")
        t = time.time()
        cmd = [sys.executable, __file__, *args, '--worker', '--out', str(out), '--backends', be]
        with tempfile.TemporaryFile('w+') as err:  # the worker's log; shown only if it fails
            proc, lines = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=err, text=True), []
            for l in proc.stdout:  # each model's line as soon as it is done
                lines.append(l.rstrip('\n'))
                if not a.json and (l.startswith(TAG) or 'WARNING' in l):  # e.g. no ImageNet weights on disk
                    print(l if l.startswith(TAG) else f"{TAG} {be}: {l}", end='', flush=True)
            proc.wait(); err.seek(0); tail = err.read()[-4000:]
        if proc.returncode != 0:
            sys.stderr.write(tail)
            raise SystemExit(f"{TAG} {be}: failed (exit {proc.returncode}); its outputs are in {out/be}")
        summary['backends'][be] = {**json.loads(lines[-1]), 'wall_seconds': time.time() - t}
        if not a.json: _say(f"{be}: done in {time.time() - t:.0f} s (process start included)")
    if a.json: print(json.dumps(summary))
    else: _say(f"all outputs in {out} — a rehearsal, not results")
    return summary

if __name__ == '__main__': main()
