"""Write README.md from nbs/index.ipynb (what `nbdev_readme` does, without needing Quarto).

Hidden cells (`#| hide`) are left out; code cells become fenced Python; the title cell's `> summary` stays a quote.
Run `python tools/make_readme.py` after editing index.ipynb; tests/test_readme.py fails when they disagree."""
import json, sys
from pathlib import Path

def render(nb_path) -> str:
    cells = json.loads(Path(nb_path).read_text())['cells']
    out = []
    for c in cells:
        src = ''.join(c['source']).strip()
        if not src or src.startswith('#| hide'): continue
        if c['cell_type'] == 'markdown': out.append(src)
        elif c['cell_type'] == 'code':
            out.append('```python\n' + '\n'.join(l for l in src.splitlines() if not l.startswith('#|')) + '\n```')
    return '<!-- generated from nbs/index.ipynb by tools/make_readme.py; edit the notebook, not this file -->\n\n' + '\n\n'.join(out) + '\n'

if __name__ == '__main__':
    root = Path(__file__).parents[1]
    (root/'README.md').write_text(render(root/'nbs'/'index.ipynb'))
    print('wrote README.md')
