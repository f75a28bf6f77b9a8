"""Write README.md from nbs/index.ipynb (what `nbdev_readme` does, without needing Quarto), with the results table
generated from results/*.json.

Hidden cells (`#| hide`) are left out; code cells become fenced Python; the title cell's `> summary` stays a quote.
The markdown cell holding `<!-- results -->` gets the table of results/*.json (see `results_table`).
Run `python tools/make_readme.py` after editing index.ipynb or results/; tests/test_readme.py fails when they disagree."""
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MARK = '<!-- results -->'

def results_table(results=ROOT/'results') -> str:
    "The README's results table, one row per registry entry (`MODELS`), from `results/<model>.json` ('not yet run here' if absent)."
    head = ('| model | test accuracy, plain (95% interval) | with TTA (views) | PublicTest (3,589) | PrivateTest (3,589) | dedup test '
            '| macro F1 | epochs | s/epoch | hardware | reference course |\n|---|---|---|---|---|---|---|---|---|---|---|')
    from fer_nb.config import MODELS  # the registry: names, titles, the reference course's figures
    from fer_nb.evaluation import pct_ci, tta_views  # the one 95% interval; the views a record's TTA averaged
    rows, notes = [], []
    for name, spec in MODELS.items():
        title, ref, f = spec.title, spec.reference or '–', Path(results)/f'{name}.json'
        if not f.exists():
            rows.append(f"| {title} | not yet run here | | | | | | | | | {ref} |"); continue
        r = json.loads(f.read_text())
        n, plain = r['n_test'], r.get('plain_test_accuracy', r['test_accuracy'])
        tta = f"{pct_ci(r['test_accuracy'], n)} ({len(tta_views(r['tta']))})" if r.get('tta') else '–'
        dedup = (f"{pct_ci(r['dedup_test_accuracy'], r['dedup_test_images'])} ({r['dedup_test_images']:,})"
                 if r.get('dedup_test_accuracy') else '–')
        if r.get('timing_note'): notes.append(f"{title}: s/epoch left out; {r['timing_note']}")
        secs = '–' if r.get('seconds_per_epoch') is None else f"{r['seconds_per_epoch']:.0f}"
        half = lambda k: '–' if r.get(k) is None else pct_ci(r[k], n//2)  # Kaggle's halves: 3,589 faces each
        rows.append(f"| {title} | {pct_ci(plain, n)} | {tta} | {half('public_test_accuracy')} | "
                    f"{half('private_test_accuracy')} | {dedup} | {r['macro_f1']:.3f} | {r['epochs_run']} | "
                    f"{secs} | {r['hardware']} | {ref} |")
    return head + '\n' + '\n'.join(rows) + ''.join(f"\n\n{n}" for n in notes)

def render(nb_path=ROOT/'nbs'/'index.ipynb', results=ROOT/'results') -> str:
    "README.md's text from the index notebook, with the results table filled in."
    cells = json.loads(Path(nb_path).read_text())['cells']
    out = []
    for c in cells:
        src = ''.join(c['source']).strip()
        if not src or src.startswith('#| hide'): continue
        if c['cell_type'] == 'markdown': out.append(src.replace(MARK, results_table(results)))
        elif c['cell_type'] == 'code':
            out.append('```python\n' + '\n'.join(l for l in src.splitlines() if not l.startswith('#|')) + '\n```')
    return '<!-- generated from nbs/index.ipynb and results/ by tools/make_readme.py; edit those, not this file -->\n\n' \
           + '\n\n'.join(out) + '\n'

if __name__ == '__main__':
    (ROOT/'README.md').write_text(render())
    print('wrote README.md')
