"""Recompute the shipped model's calibration record (`fer_nb/weights/<SHIPPED>.json`) on the real FER-2013.

Run it whenever the shipped weights change: `FER2013_ZIP=path/to/fer2013.zip python tools/calibrate_shipped.py`.
It fits the temperature on the shipped model's validation split and measures ECE and NLL on validation and test
(see nbs/34_calibration.ipynb). The record also carries how the shipped run was trained (`training`: the command,
seed, split, epochs, hardware and time, from its published record `results/<SHIPPED>.json`), so the file beside the
weights in an installed package says where they came from."""
import json, sys
from pathlib import Path
from fer_nb.calibration import calibrate_shipped, record_path
from fer_nb.config import is_result
from fer_nb.pretrained import SHIPPED, pretrained_path

ROOT = Path(__file__).resolve().parents[1]
TRAINING = ('seed', 'data', 'n_train', 'n_val', 'n_test', 'selection', 'epochs_run', 'best_epoch', 'train_seconds',
            'seconds_per_epoch', 'timing_note', 'hardware', 'precision', 'backend', 'keras_version', 'date', 'params',
            'plain_test_accuracy', 'test_accuracy', 'tta')

def training_record(name:str=SHIPPED, repo=ROOT) -> dict:
    "How the run of `name` was trained, from its published record: the command and the fields in `TRAINING`."
    f = Path(repo)/'results'/f'{name}.json'
    if not f.is_file(): raise SystemExit(f"{f} is missing: publish the shipped run's record before calibrating it")
    try: rec = json.loads(f.read_text())
    except ValueError as e: raise SystemExit(f"{f}: not a JSON record ({e})")
    if not (rec.get('result') and is_result(rec.get('mode'), rec.get('data'))):
        raise SystemExit(f"{f} is not a full-mode result on FER-2013")
    seed = '' if rec['seed'] == 42 else f" --seed {rec['seed']}"  # 42: the command's default
    cmd = f"FER_NB_PRECISION={rec['precision']} fer-nb train {name} --mode full --data fer2013.zip{seed}"
    return {'command': cmd, 'record': f'results/{name}.json', **{k: rec.get(k) for k in TRAINING}}

if __name__ == '__main__':
    training = training_record()  # before the minutes of calibration: a missing record stops it at once
    rec = calibrate_shipped(sys.argv[1] if len(sys.argv) > 1 else None, training=training)
    print(json.dumps(rec, indent=1))
    print(f"written to {record_path(pretrained_path())}", file=sys.stderr)
