"""Collect finished runs of one course model that differ only in their seed into `results/<model>_seeds.json`.

A single run's accuracy carries two kinds of chance: which faces happen to be in the test folder (the 95% interval)
and which seed trained the network (its initial weights, its validation split, the order of its batches). Runs of the
same recipe with other seeds measure the second. This tool gathers their records, checks that they are full-mode
FER-2013 runs of the same model that differ in nothing but the seed, and writes one document for a lesson to read:

    fer-nb train custom_cnn --mode full --seed 1 --out RUNS_SEED1
    python tools/repeat_runs.py custom_cnn RUNS/Custom_CNN_From_Scratch RUNS_SEED1/Custom_CNN_From_Scratch --publish results
"""
import argparse, json
from pathlib import Path

KEEP = ('seed', 'test_accuracy', 'public_test_accuracy', 'private_test_accuracy', 'dedup_test_accuracy',
        'dedup_test_images', 'macro_f1', 'epochs_run', 'best_epoch', 'n_test', 'hardware', 'date')
SAME = ('model', 'mode', 'data', 'precision', 'backend', 'n_train', 'n_val', 'n_test', 'params', 'selection')

def collect(model:str, runs:list) -> dict:
    "The seeds document of `model` from the `result.json` of each run folder in `runs` (checked, sorted by seed)."
    from fer_nb.config import MODELS, is_result
    if model not in MODELS: raise SystemExit(f"{model}: not a course model ({', '.join(MODELS)})")
    recs = []
    for d in map(Path, runs):
        f = d/'result.json'
        if not f.is_file(): raise SystemExit(f"{f} is missing: is {d} a finished run's folder?")
        r = json.loads(f.read_text())
        if r['model'] != model: raise SystemExit(f"{f} is a run of {r['model']}, not {model}")
        if not is_result(r['mode'], r['data']): raise SystemExit(f"{f}: not a full-mode run on FER-2013")
        recs.append(r)
    if len(recs) < 2: raise SystemExit('give at least two runs: one seed says nothing about the others')
    for k in SAME:
        if len({json.dumps(r.get(k)) for r in recs}) > 1:
            raise SystemExit(f"the runs differ in {k} ({', '.join(str(r.get(k)) for r in recs)}), not only in the seed")
    if len({r['seed'] for r in recs}) < len(recs): raise SystemExit('two runs have the same seed')
    return {'model': model, 'title': MODELS[model].title, 'what': 'the same recipe trained with different seeds '
            '(initial weights, validation split, batch order); each evaluated once on the whole test folder',
            **{k: recs[0].get(k) for k in SAME},
            'runs': [{k: r.get(k) for k in KEEP} for r in sorted(recs, key=lambda r: r['seed'])]}

def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('model', help='course model name, e.g. custom_cnn')
    p.add_argument('runs', nargs='+', help="finished run folders of that model (each with its result.json)")
    p.add_argument('--publish', type=Path, required=True, help='write DIR/<model>_seeds.json')
    a = p.parse_args(argv)
    doc = collect(a.model, a.runs)
    a.publish.mkdir(parents=True, exist_ok=True)
    out = a.publish/f'{a.model}_seeds.json'
    out.write_text(json.dumps(doc, indent=1) + '\n')
    print(f"wrote {out}: seeds {', '.join(str(r['seed']) for r in doc['runs'])}")

if __name__ == '__main__': main()
