"""Rebuild the run folder of a published Model 5 run in a results folder, from what this repository keeps.

A run lives in a results folder outside the repository. When that folder is gone, the lesson that shows the run
(nbs/08_model5.ipynb) can still reload it instead of training it again, because the repository keeps everything a
finished run of the compact models consists of:

- its best checkpoint's weights, written by `export_pretrained` (the same weights in float32, without the optimizer
  state a finished run no longer needs): the shipped model's in the package (`fer_nb/weights/`), the others' in
  `weights/` (the first generation, `model5_compact`, shipped until the control run replaced it);
- its per-epoch log, `results/<name>_training_log.csv`;
- its settings: its record `results/<name>.json` (precision, backend, seed, data, split sizes) and the registry's
  entry (`fer_nb.config.MODELS`: learning rate, epochs, batch size).

The folder is written as `fer_nb.training.fit` leaves a finished run (`fit.json`, `run.json`, `model.keras`,
`training_log.csv`), so `train(name, cfg)` reloads it, checks its settings against the ones it would train with (a
mismatch is an error, not a retraining), and evaluates it again on this machine. The record of the new evaluation is
the folder's `result.json`; this tool writes none. It never writes into an existing run folder.

    python tools/restore_run.py --results ../runs/store [--name model5_compact]
"""
import argparse, csv, json, shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

def run_settings(name:str, rec:dict) -> dict:
    "The settings `fit` records for the run of registry model `name` that `rec` (its published record) describes."
    from fer_nb.config import MODELS
    from fer_nb.course import _extra_settings
    s = MODELS[name]
    if s.optimizer != 'sgd': raise SystemExit(f"{name}: only a run with a fixed SGD rate can be restored this way")
    run = {'model': name, 'mode': rec['mode'], 'lr': s.lr, 'seed': rec['seed'], **_extra_settings(s),
           'precision': rec['precision'], 'backend': rec['backend'], 'epochs': s.epochs, 'batch_size': s.batch_size,
           'source': rec['data'], 'n_train': rec['n_train'], 'n_val': rec['n_val']}
    if s.label_smoothing is not None: run['label_smoothing'] = s.label_smoothing
    if s.mix: run['mix'] = s.mix
    return run

def published_weights(name:str, repo=ROOT) -> Path:
    "Where `repo` keeps the float32 weights of `name`'s published run: in its package if it ships, else in weights/."
    from fer_nb.pretrained import SHIPPED
    return Path(repo)/('fer_nb/weights' if name == SHIPPED else 'weights')/f'{name}.keras'

def restore(results, name:str='model5_compact', repo=ROOT, weights=None) -> Path:
    "Write the finished run folder of `name` under `results` from `repo`'s record, log and `published_weights`."
    from fer_nb.config import MODELS
    rec_f, log_f = Path(repo)/'results'/f'{name}.json', Path(repo)/'results'/f'{name}_training_log.csv'
    weights = Path(weights) if weights is not None else published_weights(name, repo)
    for f in (rec_f, log_f, weights):
        if not f.is_file(): raise SystemExit(f"cannot restore {name}: {f} is missing")
    rec = json.loads(rec_f.read_text())
    if not rec.get('result'): raise SystemExit(f"{rec_f} is not a full-mode result on FER-2013; nothing to restore")
    with open(log_f, newline='') as f: epochs = len(list(csv.DictReader(f)))
    if epochs != rec['epochs_run']:
        raise SystemExit(f"{log_f} has {epochs} epochs, its record {rec_f} says {rec['epochs_run']}")
    out = Path(results)/MODELS[name].folder
    if out.exists(): raise SystemExit(f"{out} exists; restore into another results folder (nothing was changed)")
    run = run_settings(name, rec)
    out.mkdir(parents=True)
    shutil.copyfile(weights, out/'model.keras')
    shutil.copyfile(log_f, out/'training_log.csv')
    (out/'run.json').write_text(json.dumps(run, indent=1))
    (out/'fit.json').write_text(json.dumps({**run, 'epochs_run': epochs}))
    return out

def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('--results', required=True, help='results folder (FER_NB_RESULTS) to restore the run into')
    p.add_argument('--name', default='model5_compact', help='the registry entry of the published run to restore')
    a = p.parse_args(argv)
    print(f"restored {restore(a.results, a.name)}: reload it with train({a.name!r}, cfg) in full mode on FER-2013")

if __name__ == '__main__': main()
