"""Short pilot runs for the second-generation Model 5: one change at a time against the first generation's recipe.

Every pilot is Model 5 compact's registry entry with one or two settings changed, trained in full mode on FER-2013
for the same short schedule (`--epochs`, the cosine schedule compressed to it), and judged only on the validation
split (10% of train/, seed 42) that the model never trains on: plain, with the mirror image, and with 18 views.
The test folder is never evaluated here, so the choice of recipe cannot leak it.

    python tools/pilots.py --data ../shared/data/fer2013.zip --out ../runs/pilots --epochs 15 [--only base ls mixup]

Each pilot trains in `--out/<pilot>/` (an interrupted pilot resumes from its backup; a finished one is reloaded) and
adds one JSON line to `--out/pilots.jsonl`. Pilots run one after another, never two at once. `--publish DIR` merges
them into `DIR/model5_pilots.json`, keeping the records already there; each record says how its random layers were
seeded (pilots run before lesson 04's fix gave all of them one shared seed).
"""
import argparse, dataclasses, json, time
from pathlib import Path

# name: (what changes, registry fields, builder arguments)
PILOTS = {
    'base': ('the first generation (control)', {}, {}),
    'ls': ('label smoothing 0.1', {'label_smoothing': 0.1}, {}),
    'mixup': ('mixup (alpha 0.2), one-hot targets', {'label_smoothing': 0.0, 'mix': 'mixup'}, {}),
    'cutmix': ('cutmix (alpha 1), one-hot targets', {'label_smoothing': 0.0, 'mix': 'cutmix'}, {}),
    'se': ('squeeze-and-excitation after each stage (ratio 8)', {}, {'se': 8}),
    'erase': ('random erasing on 80% of the faces, not 50%', {}, {'erasing': 0.8}),
    'wd': ('weight decay 1e-3, not 5e-4', {'weight_decay': 1e-3}, {}),
    'wide': ('widths 48-96-192-384 (4.3M parameters)', {}, {'widths': (48, 96, 192, 384), 'convs': (2, 2, 3, 3)}),
    'zoom': ('random zoom of up to 20%, in or out', {}, {'zoom': 0.2}),
}

PER_LAYER, SHARED = 'one per layer', 'shared (before the fix of lesson 04)'  # how the random layers were seeded

def pilot_spec(name:str, epochs:int):
    "Model 5 compact's registry entry with pilot `name`'s changes, its own folder and `epochs` epochs."
    from fer_nb.config import MODELS
    what, fields, kwargs = PILOTS[name]
    base = MODELS['model5_compact']
    builder = 'model5' if 'widths' in kwargs else base.builder
    kw = {**kwargs, 'name': f'pilot_{name}'} if builder == 'model5' else kwargs
    return dataclasses.replace(base, builder=builder, folder=f'pilot_{name}', title=f'pilot {name}: {what}',
                               epochs=epochs, kwargs=kw, in_course=False, **fields)

def run_pilot(name:str, cfg, data, epochs:int) -> dict:
    "Train pilot `name` (or reload it) and score its best checkpoint on the validation split."
    import numpy as np
    from fer_nb.config import MODELS
    from fer_nb.data import prepare
    from fer_nb.course import build, optimizer_for, hardware
    from fer_nb.training import compile_model, fit
    from fer_nb.evaluation import predict_probs
    from fer_nb.config import set_seed
    set_seed(cfg.seed)  # every pilot starts from the same seed, whichever ran before it
    s = MODELS[f'pilot_{name}'] = pilot_spec(name, epochs)
    sp = prepare(data, cfg, s.val_split)
    out = cfg.model_dir(f'pilot_{name}')
    model = compile_model(build(f'pilot_{name}', cfg, weights=None), label_smoothing=s.label_smoothing,
                          optimizer=optimizer_for(s, cfg, len(sp.y_train), epochs))
    t = time.time()
    hist = fit(model, sp, out, epochs, cfg.batch(s.batch_size), verbose=2, patience=s.patience, monitor=s.monitor,
               settings=dict(model=f'pilot_{name}', mode=cfg.mode, lr=s.lr), mix=s.mix, seed=cfg.seed)
    # note: with mix, the logged training accuracy is agreement with each mixed face's larger label share
    plain = predict_probs(model, sp.x_val, 256)
    acc = lambda p: round(float((p.argmax(1) == sp.y_val).mean()), 4)
    return {'pilot': name, 'change': PILOTS[name][0], 'epochs': epochs, 'params': model.count_params(),
            'best_epoch': int(np.argmax(hist['val_accuracy'])) + 1, 'n_val': len(sp.y_val),
            'val_plain': acc(plain), 'val_flip': acc(predict_probs(model, sp.x_val, 256, tta='flip', plain=plain)),
            'val_18_views': acc(predict_probs(model, sp.x_val, 256, tta='flip+shifts', plain=plain)),
            'train_accuracy_last': round(hist['accuracy'][-1], 4),
            'seconds_per_epoch': round(float(np.median(hist['seconds'])), 1), 'wall_seconds': round(time.time() - t),
            'precision': cfg.precision, 'seed': cfg.seed, 'layer_seeds': PER_LAYER, 'hardware': hardware(cfg.precision)}

def _read(f:Path, parse):
    "`parse` of file `f`'s text; a file that does not parse is a one-line error naming it."
    try: return parse(f.read_text())
    except (ValueError, KeyError, TypeError) as e: raise SystemExit(f"{f}: not a pilot record file ({e!r})")

def _key(r:dict) -> tuple:
    "Where a pilot record sorts: the tool's order of pilots, then the older seeding first."
    return list(PILOTS).index(r['pilot']), r['layer_seeds'] != SHARED

def publish(out:Path, dest:Path) -> Path:
    "Merge the last record of each finished pilot in `out/pilots.jsonl` into `dest/model5_pilots.json` (PILOTS order)."
    f, recs = dest/'model5_pilots.json', {}
    # records published before are kept: pilots of another results folder, or pilots whose random layers shared a seed
    old = _read(f, lambda t: json.loads(t)['pilots']) if f.exists() else []
    new = _read(out/'pilots.jsonl', lambda t: [json.loads(line) for line in t.splitlines() if line.strip()])
    for r in old + new:
        r = {'layer_seeds': SHARED, **r}
        if r['pilot'] in PILOTS: recs[r['pilot'], r['layer_seeds']] = r
    # times are left out: pilots were paused (SIGSTOP) for other measurements, and a reloaded pilot records none
    rows = [{k: v for k, v in r.items() if k not in ('seconds_per_epoch', 'wall_seconds')}
            for r in sorted(recs.values(), key=_key)]
    doc = {'what': 'short pilot runs of Model 5 compact, one change at a time, judged on the validation split only',
           'not_run': [n for n in PILOTS if not any(r['pilot'] == n for r in rows)],
           'command': f"python tools/pilots.py --epochs {rows[0]['epochs'] if rows else '?'} (see its docstring)",
           'data': 'fer2013', 'split': 'validation: 10% of train/, seed 42', 'pilots': rows}
    dest.mkdir(parents=True, exist_ok=True)
    f.write_text(json.dumps(doc, indent=1))
    return f

def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('--data', help='the real FER-2013 (zip or folder); needed to train')
    p.add_argument('--out', required=True, type=Path, help='results folder for the pilots (outside the repository)')
    p.add_argument('--epochs', type=int, default=15)
    p.add_argument('--only', nargs='*', choices=list(PILOTS), help='these pilots only (default: all, in order)')
    p.add_argument('--publish', type=Path, help='only write the finished pilots of --out to DIR/model5_pilots.json')
    a = p.parse_args(argv)
    if a.publish: return print(f"wrote {publish(a.out, a.publish)}")
    if not a.data: p.error('--data is needed to train pilots')
    from fer_nb.config import get_config
    from fer_nb.datasets import load_data
    cfg = get_config('full', root=a.out)
    data = load_data(cfg, a.data)
    if data.source != 'fer2013': raise SystemExit(f"{a.data}: not FER-2013 ({data.source}); pilots need the real data")
    for name in a.only or PILOTS:
        rec = run_pilot(name, cfg, data, a.epochs)
        print(json.dumps(rec), flush=True)
        with open(a.out/'pilots.jsonl', 'a') as f: f.write(json.dumps(rec) + '\n')

if __name__ == '__main__': main()
