"""Collect finished runs of one course model's recipe into `results/<model>_repeats.json`: how much a rerun moves.

A single run's accuracy carries two kinds of chance: which faces happen to be in the test folder (the 95% interval)
and the run itself: its seed (initial weights, validation split, order of batches) and, even with the same seed, the
order in which a machine adds up its floating-point numbers (multi-threaded CPU kernels are not deterministic, so a
rerun is another run). Reruns of the same recipe measure the second. This tool gathers their records, checks that
they are full-mode FER-2013 runs of the same model with the same settings (their seed, machine and date may differ),
and writes one document for a lesson to read:

    fer-nb train custom_cnn --mode full --seed 1 --out RUNS_SEED1
    python tools/repeat_runs.py custom_cnn RUNS/Custom_CNN_From_Scratch RUNS_SEED1/Custom_CNN_From_Scratch --publish results

A run's folder may also be given as a published record (`results/custom_cnn.json` of an earlier commit, for example).
"""
import argparse, json
from pathlib import Path

KEEP = ('seed', 'test_accuracy', 'public_test_accuracy', 'private_test_accuracy', 'dedup_test_accuracy',
        'dedup_test_images', 'macro_f1', 'epochs_run', 'best_epoch', 'n_test', 'hardware', 'date')
SAME = ('model', 'mode', 'data', 'precision', 'backend', 'n_test', 'params', 'selection')  # one recipe

def collect(model:str, runs:list) -> dict:
    "The repeats document of `model` from each run in `runs` (a run folder's `result.json`, or a record file)."
    from fer_nb.config import MODELS, is_result
    if model not in MODELS: raise SystemExit(f"{model}: not a course model ({', '.join(MODELS)})")
    recs = []
    for d in map(Path, runs):
        f = d if d.suffix == '.json' else d/'result.json'
        if not f.is_file(): raise SystemExit(f"{f} is missing: is {d} a finished run's folder?")
        r = json.loads(f.read_text())
        if r['model'] != model: raise SystemExit(f"{f} is a run of {r['model']}, not {model}")
        if not is_result(r['mode'], r['data']): raise SystemExit(f"{f}: not a full-mode run on FER-2013")
        recs.append(r)
    if len(recs) < 2: raise SystemExit('give at least two runs: one run says nothing about another')
    for k in SAME:
        if len({json.dumps(r.get(k)) for r in recs}) > 1:
            raise SystemExit(f"the runs differ in {k} ({', '.join(str(r.get(k)) for r in recs)}): not one recipe")
    ids = [(r['seed'], r['date'], r['hardware'], r['test_accuracy']) for r in recs]
    if len(set(ids)) < len(ids): raise SystemExit('the same run is given twice (same seed, date, machine and accuracy)')
    return {'model': model, 'title': MODELS[model].title, 'what': 'runs of the same recipe (other seeds, or the same '
            'seed on another machine or day); each evaluated once on the whole test folder',
            **{k: recs[0].get(k) for k in SAME},
            'runs': [{k: r.get(k) for k in KEEP} for r in sorted(recs, key=lambda r: (r['seed'], r['date']))]}

def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('model', help='course model name, e.g. custom_cnn')
    p.add_argument('runs', nargs='+', help="finished run folders of that model (each with its result.json), or record files")
    p.add_argument('--publish', type=Path, required=True, help='write DIR/<model>_repeats.json')
    a = p.parse_args(argv)
    doc = collect(a.model, a.runs)
    a.publish.mkdir(parents=True, exist_ok=True)
    out = a.publish/f'{a.model}_repeats.json'
    out.write_text(json.dumps(doc, indent=1) + '\n')
    print(f"wrote {out}: {len(doc['runs'])} runs, seeds {', '.join(str(r['seed']) for r in doc['runs'])}")

if __name__ == '__main__': main()
