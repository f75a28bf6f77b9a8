"""Execute course notebooks top to bottom in FULL mode on the real FER-2013 and write them back with their outputs.

Stored outputs are evidence: a notebook in this repository has either no outputs or the outputs of one full-mode run
on the real data. This tool is the only way outputs get in. It runs on a CPU or a GPU machine (any Keras backend).

    python tools/run_notebooks.py nbs/02_analysis.ipynb nbs/03_model1_cnn.ipynb \\
        --data ../shared/data/fer2013.zip --results /path/to/results-folder [--publish results] [--flags gpu]

- `--data` (or FER2013_ZIP / FER2013_DIR) must name the real FER-2013; the tool refuses to store anything else.
- `--results` is FER_NB_RESULTS: a model trained there before (e.g. by `fer-nb train`) is reloaded, not retrained.
- After each notebook it checks that the first printed line says FULL and names the FER-2013 source, and that no
  output mentions QUICK MODE, synthetic data, a folder that is not the whole FER-2013 or a REHEARSAL; otherwise the
  notebook is left unchanged and the tool fails.
- `--publish DIR` copies every real result found in the results folder (`*/result.json`) into DIR/<model>.json.
- Figures are stored as PNG at 80 dpi; progress bars are reduced to their last state. nbs/ must stay under 15 MB.
- Stored outputs name folders as a reader knows them, not as this machine does: the data file by its name
  (fer2013.zip), the results folder as $FER_NB_RESULTS, the cache as ~/.cache/fer_nb, this checkout as `.`, the home
  folder as `~`, a temporary folder (tempfile's /tmp/tmpXXXXXXXX) as <temporary folder>. An output that still shows one of those paths,
  a library warning, a line of TensorFlow's logger or a Keras download notice fails the notebook.
- `--scrub` applies only that renaming (and its check) to notebooks already stored, without running them.
"""
import argparse, json, os, re, tempfile, time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FLAGS = ('gpu', 'kaggle')
LIMIT_MB = 15
TEMP = re.compile(re.escape(tempfile.gettempdir().rstrip('/')) + r'/tmp\w{6,}(?![\w.-])')  # a folder from mkdtemp
TEMP_NAME = '<temporary folder>'
LEAKS = re.compile(r'\b[A-Z]\w*Warning: |site-packages/|(?<![\w.~$])/(?:root|home|Users|content)/|'
                   r'^(?:INFO|WARNING):tensorflow:|^Downloading data from |' + TEMP.pattern, re.M)
# a warning as Python prints it, a library's file path, a path in someone's home folder (or Colab's /content), a line
# of TensorFlow's Python logger, Keras announcing a download (fer_nb checks the server first), or a temporary folder:
# its random name means nothing to a reader

def _skip(cell, flags) -> bool:
    "Cells nbdev_test would skip: markdown, the export call, and cells whose test flag was not asked for."
    if cell.cell_type != 'code' or 'nbdev_export(' in cell.source: return True
    first = [l[3:].strip() for l in cell.source.splitlines() if l.startswith('#|')]
    return any(f in first and f not in flags for f in FLAGS)

def _squash(text:str) -> str:
    "Keep only the last state of each carriage-return progress line, without terminal colour codes."
    text = re.sub(r'\x1b\[[0-9;]*m', '', text)
    return '\n'.join(l.rsplit('\r', 1)[-1] for l in text.split('\n'))

def _tidy(nb):
    "Shrink stream outputs (progress bars) in place."
    for c in nb.cells:
        for o in c.get('outputs', []):
            if o.get('output_type') == 'stream': o['text'] = _squash(''.join(o['text']))

TEXT_KINDS = ('text/plain', 'text/markdown', 'text/html')

def reader_names(data:str, results:str|None=None) -> dict:
    "Absolute machine paths that stored outputs must not show, longest first, each with the name a reader knows."
    from fer_nb.config import cache_dir
    names = {Path(data): Path(data).name, cache_dir(): '~/.cache/fer_nb', ROOT: '.', Path.home(): '~',
             **({Path(results): '$FER_NB_RESULTS'} if results else {})}
    found = {}
    for p, v in names.items():  # as given (absolute) and resolved (symbolic links followed)
        for k in {str(p.expanduser().absolute()), str(p.expanduser().resolve())}:
            if k != '/': found[k] = v
    return dict(sorted(found.items(), key=lambda kv: -len(kv[0])))

def _rename(text, names:dict):
    "`text` (a string, or a list of lines as notebooks store it) with each path of `names` renamed."
    if isinstance(text, list): return [_rename(t, names) for t in text]
    for k, v in names.items(): text = re.sub(re.escape(k) + r'(?![\w.-])', lambda m: v, text)  # whole path parts
    return TEMP.sub(TEMP_NAME, text)

def scrub(nb, names:dict):
    "Rename machine paths in every text output of `nb` in place (see `reader_names`)."
    for c in nb.cells:
        for o in c.get('outputs', []):
            if o.get('output_type') == 'stream': o['text'] = _rename(o['text'], names)
            for k in TEXT_KINDS:
                if k in o.get('data', {}): o['data'][k] = _rename(o['data'][k], names)

def _texts(nb) -> list:
    "Every text output of `nb`, in order."
    out = []
    for c in nb.cells:
        for o in c.get('outputs', []):
            if o.get('output_type') == 'stream': out.append(''.join(o['text']))
            else: out += [''.join(o['data'][k]) for k in TEXT_KINDS if k in o.get('data', {})]
    return out

def check_clean(nb, name:str, names:dict):
    "Raise if an output of `nb` shows a machine path (of `names`, or in a home folder) or a library warning."
    for t in _texts(nb):
        leak = next((k for k in names if k in t), None) or (m.group() if (m := LEAKS.search(t)) else None)
        if leak: raise SystemExit(f"{name}: an output shows {leak!r}: {t.strip()[:200]!r}")

def check_full(nb, name:str):
    "Raise unless `nb`'s outputs come from a full-mode run on FER-2013."
    texts = _texts(nb)
    if not texts: raise SystemExit(f"{name}: no output at all")
    first = texts[0].strip().splitlines()[0]
    if 'FULL' not in first or 'fer2013' not in first.lower():
        raise SystemExit(f"{name}: first printed line does not say FULL and fer2013: {first!r}")
    # quick mode, synthetic data, a folder that is not the whole FER-2013 (`FERData.describe`), or tools/rehearse.py
    bad = [t for t in texts if any(w in t for w in ('QUICK', 'SYNTHETIC', 'REHEARSAL', 'not the whole'))]
    if bad:
        raise SystemExit(f"{name}: outputs mention quick mode, synthetic data, data that is not the whole FER-2013 "
                         f"or a REHEARSAL: {bad[0][:200]!r}")

def clear(nb):
    "Remove every code cell's outputs from `nb`, in place."
    for c in nb.cells:
        if c.cell_type == 'code': c.outputs, c.execution_count = [], None

def _shell(path:Path):
    "execnb's shell, except that a cell ending in `;` keeps what it printed: Jupyter hides only its value."
    from execnb.shell import CaptureShell
    class Shell(CaptureShell):
        def _run(self, raw_cell, *args, **kwargs):  # execnb 0.1.18 drops the stdout of such a cell too
            if raw_cell.rstrip().endswith(';'): raw_cell += '\npass'  # last statement not an expression: no value
            return super()._run(raw_cell, *args, **kwargs)
    return Shell(path, mpl_format='png')

def run(path:Path, flags, names:dict) -> float:
    "Execute notebook `path` in place (outputs replaced, machine paths renamed); return the seconds it took."
    from execnb.nbio import read_nb
    nb, t = read_nb(path), time.time()
    clear(nb)  # execnb keeps a cell's old outputs when it prints nothing now: start from none
    sh = _shell(path)
    sh.run_cell("import matplotlib; matplotlib.rcParams['figure.dpi'] = 80")
    cwd = os.getcwd(); os.chdir(path.parent)
    try: sh.run_all(nb, exc_stop=True, preproc=lambda c: _skip(c, flags))
    except Exception:
        raise SystemExit(f"{path.name} failed:\n{sh.prettytb(fname=path)}")
    finally: os.chdir(cwd)
    _tidy(nb)
    store(nb, path, names)
    return time.time() - t

def store(nb, path:Path, names:dict):
    "Rename machine paths in `nb`'s outputs, check them (full mode on FER-2013, nothing leaking) and write it to `path`."
    from execnb.nbio import write_nb
    scrub(nb, names)
    check_full(nb, path.name)
    check_clean(nb, path.name, names)
    write_nb(nb, path)

def publish_all(results:Path, dest:Path) -> list:
    "Publish every real result under `results` into `dest`."
    from fer_nb.course import publish
    done = []
    for f in sorted(results.glob('*/result.json')):
        res = json.loads(f.read_text())
        if res.get('result'): done.append(publish(res, dest))
    return done

def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('notebooks', nargs='+', type=Path)
    p.add_argument('--data', help='FER-2013 zip or folder (default: FER2013_ZIP / FER2013_DIR)')
    p.add_argument('--results', help='results folder (FER_NB_RESULTS); finished runs there are reloaded')
    p.add_argument('--publish', type=Path, help='copy real results into this folder (e.g. results)')
    p.add_argument('--flags', nargs='*', default=[], choices=FLAGS, help='also run cells with these test flags')
    p.add_argument('--scrub', action='store_true', help='only rename machine paths in stored outputs (no run)')
    a = p.parse_args(argv)
    if a.publish and not a.results: p.error('--publish copies results out of --results: name that folder too')
    data = a.data or os.environ.get('FER2013_ZIP') or os.environ.get('FER2013_DIR')
    if not data or not Path(data).exists(): p.error('the real FER-2013 is needed: pass --data or set FER2013_ZIP')
    os.environ.update(FER_NB_MODE='full', MPLBACKEND='module://matplotlib_inline.backend_inline')
    var, other = ('FER2013_ZIP', 'FER2013_DIR') if Path(data).is_file() else ('FER2013_DIR', 'FER2013_ZIP')
    os.environ[var] = str(Path(data).resolve())
    os.environ.pop(other, None)  # the data the checks name is the data the notebooks load (FER2013_DIR wins otherwise)
    if a.results: os.environ['FER_NB_RESULTS'] = str(Path(a.results).resolve())
    names = reader_names(data, a.results)
    if a.scrub:
        from execnb.nbio import read_nb
        for path in a.notebooks:
            store(read_nb(path), path, names)
            print(f"{path.name}: machine paths renamed")
        return
    for nb in a.notebooks: print(f"{nb.name}: {run(nb.resolve(), a.flags, names):.0f} s", flush=True)
    if a.publish:
        for f in publish_all(Path(a.results), a.publish): print(f"published {f}")
    mb = sum(f.stat().st_size for f in (ROOT/'nbs').glob('*.ipynb'))/2**20
    print(f"nbs/ holds {mb:.1f} MB of notebooks (limit {LIMIT_MB} MB)")
    if mb > LIMIT_MB: raise SystemExit(f"nbs/ is {mb:.1f} MB, over the {LIMIT_MB} MB limit")

if __name__ == '__main__': main()
