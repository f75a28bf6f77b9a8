"""Build the course website from the notebooks as stored (no notebook is executed), with Sphinx, MyST-NB and the
sphinx-book-theme, offline.

    pip install -e ".[docs]" && python tools/build_site.py --out _site

Every notebook in nbs/ becomes a page, found by glob and read in course order: nbs/index.ipynb is the home page (with
the README's results table from results/), then the lessons (numbers below 20) by number, then the reference
notebooks (20 and up) by number. Stored outputs (full-mode runs on FER-2013) are shown as stored; `#| hide` cells are
left out, other nbdev directive lines (`#| export` ...) are removed from the code shown, and each notebook page gets an
"Open in Colab" link (repository from settings.ini's `git_url`). Each module `fer_nb/*.py` (but `_modidx` and the
package's `__init__`) gets an API page from its signatures, docstrings and docments. Sphinx's own search is built in.

The output folder must be new, empty, or an earlier site built by this script (which is then replaced whole); any
other folder is refused, so nothing of yours is overwritten."""
import argparse, ast, configparser, inspect, os, copy, importlib.util, json, re, shutil, sys, tempfile, time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
COLAB = 'https://colab.research.google.com/github'
MARKER = '.fer_nb_site'  # written into every site this script builds: the only kind of folder it will replace
_DIRECTIVE = re.compile(r'^\s*#\s*\|\s*(.*?)\s*$')
_NUMBERED = re.compile(r'^(\d+)_')

class SiteError(Exception):
    "A user error building the site: printed in one line, exit status 1."

def settings(root=ROOT) -> configparser.SectionProxy:
    "The `[DEFAULT]` section of the project's settings.ini."
    cfg = configparser.ConfigParser(delimiters=['=']); cfg.read(Path(root)/'settings.ini', encoding='utf-8')
    return cfg['DEFAULT']

def directives(src: str) -> tuple[dict, str]:
    "The nbdev/Quarto directives (`#| hide`, `#| echo: false` ...) of a cell's source, and the source without them."
    found, lines = {}, src.splitlines()
    while lines and _DIRECTIVE.match(lines[0]):
        key, _, val = _DIRECTIVE.match(lines.pop(0)).group(1).partition(':')
        if key.strip(): found[key.strip().split()[0]] = val.strip().lower() or True
    return found, '\n'.join(lines).strip('\n')

def clean_cell(cell: dict) -> dict | None:
    "The cell as a reader sees it: None if hidden, directive lines removed, outputs or input dropped where asked."
    src = ''.join(cell['source']) if isinstance(cell['source'], list) else cell['source']
    d, body = directives(src)
    if d.get('hide') or d.get('include') == 'false': return None
    cell = copy.deepcopy(cell)
    if cell['cell_type'] != 'code': return cell
    cell['source'] = body
    if d.get('hide_output') or d.get('output') == 'false': cell['outputs'] = []
    if d.get('hide_input') or d.get('echo') == 'false':  # outputs only (myst-nb's `remove-input` tag)
        cell.setdefault('metadata', {}).setdefault('tags', []).append('remove-input')
    if not body.strip() and not cell.get('outputs'): return None  # e.g. a cell that held only `#| default_exp`
    return cell

def colab_url(name: str, cfg=None) -> str:
    "The Colab address of notebook `name` (a file in nbs/), from settings.ini's `git_url` and `branch`."
    cfg = cfg or settings()
    repo = cfg['git_url'].rstrip('/').removesuffix('.git').split('github.com/')[-1]
    return f"{COLAB}/{repo}/blob/{cfg.get('branch', 'main')}/{cfg.get('nbs_path', 'nbs')}/{name}"

def _md(text: str) -> dict: return {'cell_type': 'markdown', 'metadata': {}, 'source': text}

def page_notebook(nb: dict, name: str, cfg=None) -> dict:
    "Notebook `nb` (file `name`) as its site page: hidden cells out, an Open-in-Colab link under the title."
    nb = copy.deepcopy(nb)
    cells = [c for c in map(clean_cell, nb['cells']) if c is not None]
    title = next((i for i, c in enumerate(cells) if c['cell_type'] == 'markdown'
                  and ''.join(c['source']).lstrip().startswith('# ')), -1)
    cells.insert(title + 1, _md(f'[Open in Colab]({colab_url(name, cfg)})'))
    for i, c in enumerate(cells): c['id'] = f'c{i}'  # unique ids, the added cells' too (nbformat 4.5 wants them)
    nb['cells'], nb['nbformat'], nb['nbformat_minor'] = cells, 4, max(nb.get('nbformat_minor', 5), 5)
    return nb

def reading_order(nbs: Path) -> tuple[Path, list[Path], list[Path]]:
    "nbs/index.ipynb, the lessons (numbered below 20) and the reference notebooks (the rest), each list by number."
    index, files = Path(nbs)/'index.ipynb', sorted(Path(nbs).glob('*.ipynb'))
    if not index.exists(): raise SiteError(f'{index} not found: the home page is made from it')
    key = lambda p: (int(_NUMBERED.match(p.name).group(1)) if _NUMBERED.match(p.name) else 10**9, p.name)
    others = sorted((p for p in files if p != index), key=key)
    lessons = [p for p in others if _NUMBERED.match(p.name) and int(_NUMBERED.match(p.name).group(1)) < 20]
    return index, lessons, [p for p in others if p not in lessons]

def modules(lib: Path) -> list[str]:
    "The library's modules with an API page: `fer_nb/*.py` but `_modidx` and `__init__` (names starting with `_`)."
    return sorted(p.stem for p in Path(lib).glob('*.py') if not p.stem.startswith('_'))

def _source_notebook(py: Path) -> str | None:
    "The notebook nbdev names in the header of generated module `py`, e.g. '21_data.ipynb'."
    m = re.search(r'File to edit: \S*?([^/\s]+\.ipynb)', Path(py).read_text(encoding='utf-8')[:1000])
    return m.group(1) if m else None

def constants(py: Path) -> dict[str, str]:
    "The names in module `py`'s `__all__` bound by assignment (not `def` or `class`), with the source of their values."
    src = Path(py).read_text(encoding='utf-8'); tree = ast.parse(src)
    names = next((ast.literal_eval(n.value) for n in tree.body if isinstance(n, ast.Assign)
                  and getattr(n.targets[0], 'id', '') == '__all__'), [])
    found = {}
    for n in tree.body:
        targets = n.targets if isinstance(n, ast.Assign) else [n.target] if isinstance(n, ast.AnnAssign) else []
        for t in (e for t in targets for e in (t.elts if isinstance(t, ast.Tuple) else [t])):  # `A, B = 1, 2` too
            if getattr(t, 'id', None) in names and n.value is not None:
                found[t.id] = ast.get_source_segment(src, n.value)
    return found

def api_page(lib_name: str, mod: str, nb: str | None, consts: dict[str, str] | None = None) -> str:
    "The MyST source of module `mod`'s API page: autodoc of everything in its `__all__`, constants included."
    doc = f'Taught and tested in [](../{nb}); this page lists what the module exports.' if nb else ''
    consts = consts or {}
    excl = f"   :exclude-members: {', '.join(consts)}\n" if consts else ''
    short = lambda v: len(v) <= 80 and '\n' not in v  # long values (registries, tables) are shown by name only
    data = ''.join(f'\n.. autodata:: {lib_name}.{mod}.{k}\n' + ('' if short(v) else '   :no-value:\n')
                   for k, v in consts.items())  # autodoc's `:members:` leaves undocumented constants out
    return (f'# {lib_name}.{mod}\n\n{doc}\n\n```{{eval-rst}}\n.. automodule:: {lib_name}.{mod}\n'
            f'   :members:\n   :undoc-members:\n   :show-inheritance:\n{excl}{data}```\n')

def _toctree(caption: str, names: list[str]) -> str:
    return f'```{{toctree}}\n:caption: {caption}\n:maxdepth: 1\n:hidden:\n\n' + '\n'.join(names) + '\n```'

def _results_table(root: Path) -> str:
    "The README's results table, from tools/make_readme.py (one source for it)."
    spec = importlib.util.spec_from_file_location('make_readme', Path(root)/'tools'/'make_readme.py')
    m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m)
    return m.results_table(Path(root)/'results')

def home_notebook(nb: dict, lessons: list[str], reference: list[str], api: list[str], table: str) -> dict:
    "The home page: index.ipynb with the results table, its `nbs/X.ipynb` links made site links, and the contents."
    nb = page_notebook(nb, 'index.ipynb')
    nb['cells'] = [c for c in nb['cells'] if not ''.join(c['source']).startswith('[Open in Colab]')]
    for c in nb['cells']:
        if c['cell_type'] == 'markdown':
            c['source'] = ''.join(c['source']).replace('<!-- results -->', table).replace('](nbs/', '](')
    tocs = [_toctree('Lessons', lessons), _toctree('Reference', reference), _toctree('API', api)]
    nb['cells'].append(_md('\n\n'.join(tocs)) | {'id': 'toc'})
    return nb

def sphinx_conf(cfg) -> dict:
    "Sphinx settings: notebooks rendered from their stored outputs (never executed), book theme, autodoc."
    return dict(
        project=cfg['lib_name'], author=cfg['author'], copyright=cfg['copyright'], release=cfg['version'],
        extensions=['myst_nb', 'sphinx.ext.autodoc', 'sphinx.ext.viewcode'],
        nb_execution_mode='off',  # stored outputs are the evidence: full-mode runs on FER-2013
        nb_ipywidgets_js={},  # never load widget scripts from a CDN: the pages load nothing from outside
        nb_merge_streams=True, myst_heading_anchors=3, html_theme='sphinx_book_theme', html_title=cfg['lib_name'],
        html_baseurl=cfg.get('doc_host', '') + cfg.get('doc_baseurl', '') + '/', html_last_updated_fmt=None,
        html_theme_options={'repository_url': cfg['git_url'], 'repository_branch': cfg.get('branch', 'main'),
                            'path_to_docs': cfg.get('nbs_path', 'nbs'), 'use_repository_button': True,
                            'use_download_button': False,  # it would offer the page's cleaned copy
                            'launch_buttons': {'colab_url': 'https://colab.research.google.com'},
                            'show_toc_level': 2},
        html_sidebars={'**': ['navbar-logo.html', 'icon-links.html', 'sbt-sidebar-nav.html']},  # search: in the header
        autodoc_member_order='bysource', autodoc_typehints='signature', autodoc_inherit_docstrings=False,
        html_show_sourcelink=False, html_copy_source=False, exclude_patterns=['**.ipynb_checkpoints'],
        suppress_warnings=['mystnb.unknown_mime_type', 'misc.highlighting_failure'])  # `!pip` lines aren't Python

def _docments(app, what, name, obj, options, lines):
    "autodoc hook: add the parameters' docments (nbdev's trailing comments) to the docstring, as `show_doc` does."
    if what in ('data', 'attribute') and lines and inspect.getdoc(type(obj)) \
            and '\n'.join(lines).strip() == inspect.getdoc(type(obj)).strip():
        lines.clear(); return  # a constant has no docstring: autodoc would show its type's (dict's, tuple's ...)
    if what not in ('function', 'method', 'class') or not callable(obj): return
    try:
        from fastcore.docments import docments
        docs = docments(obj, full=True)
    except Exception: return  # builtins, C extensions, objects without source: their docstring is all there is
    params = [(k, v) for k, v in docs.items() if k != 'return' and v.get('docment')]
    if params: lines += [''] + [f':param {k}: {v["docment"]}' for k, v in params]
    if docs.get('return', {}).get('docment'): lines += [f':returns: {docs["return"]["docment"]}']

def setup(app):
    "Sphinx extension hook (conf.py imports it): docments in the API pages."
    app.connect('autodoc-process-docstring', _docments)
    return {'parallel_read_safe': True}

def stage(src: Path, root=ROOT) -> list[str]:
    "Write the Sphinx source folder `src`: the cleaned notebooks, the API pages and conf.py. Returns the page names."
    cfg = settings(root)
    nbs, lib = Path(root)/cfg.get('nbs_path', 'nbs'), Path(root)/cfg['lib_path']
    index, lessons, reference = reading_order(nbs)
    api = [f"api/{m}" for m in modules(lib)]
    (src/'api').mkdir(parents=True)
    for p in lessons + reference:
        (src/p.name).write_text(json.dumps(page_notebook(json.loads(p.read_text(encoding='utf-8')), p.name, cfg)))
    home = home_notebook(json.loads(index.read_text(encoding='utf-8')), [p.stem for p in lessons],
                         [p.stem for p in reference], api, _results_table(root))
    (src/'index.ipynb').write_text(json.dumps(home))
    for a in api:
        m = a.split('/')[1]
        nb = _source_notebook(lib/f'{m}.py')
        (src/f'{a}.md').write_text(api_page(cfg['lib_name'], m, nb, constants(lib/f'{m}.py')), encoding='utf-8')
    conf = '\n'.join(f'{k} = {v!r}' for k, v in sphinx_conf(cfg).items())
    (src/'conf.py').write_text(f'import sys\nsys.path[:0] = [{str(Path(__file__).parent)!r}, {str(root)!r}]\n'
                               f'from build_site import setup\n{conf}\n', encoding='utf-8')
    return ['index'] + [p.stem for p in lessons + reference] + api

def _check_out(out: Path):
    "Refuse an output folder that holds anything but an earlier site built here."
    if out.exists() and (not out.is_dir() or (any(out.iterdir()) and not (out/MARKER).exists())):
        raise SiteError(f'{out} exists and is not a site built by tools/build_site.py: give a new or empty folder')

def build(out='_site', root=ROOT, quiet=False) -> Path:
    "Build the site into folder `out` (replacing an earlier build there); returns its home page."
    out = Path(out).resolve(); _check_out(out)
    try: from fer_nb.cli import quiet_tensorflow  # autodoc imports the modules, hence Keras: without its start-up notes
    except ImportError: os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')
    else: quiet_tensorflow()
    from sphinx.application import Sphinx
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix='.site-', dir=out.parent) as tmp:
        src, html = Path(tmp)/'src', Path(tmp)/'html'
        stage(src, root)
        status = None if quiet else sys.stderr  # Sphinx's own progress lines ("reading sources... [ 42%]")
        app = Sphinx(str(src), str(src), str(html), str(Path(tmp)/'doctrees'), 'html', status=status,
                     warning=sys.stderr, freshenv=True, verbosity=0)
        app.build()
        if app.statuscode: raise SiteError(f'Sphinx failed (status {app.statuscode}); see the messages above')
        (html/MARKER).write_text('built by tools/build_site.py; the next build replaces this folder whole\n')
        if out.exists(): shutil.rmtree(out)
        html.rename(out)
    return out/'index.html'

def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('--out', default='_site', help='folder to build into (new, empty, or an earlier site)')
    p.add_argument('--quiet', action='store_true', help="hide Sphinx's progress lines (warnings still show)")
    a = p.parse_args(argv)
    t = time.perf_counter()
    try: home = build(a.out, quiet=a.quiet)
    except SiteError as e: print(f'error: {e}', file=sys.stderr); sys.exit(1)
    print(f'built {home} in {time.perf_counter() - t:.0f} s')

if __name__ == '__main__': main()
