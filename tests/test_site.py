"""The course website (tools/build_site.py), built once for this module from the notebooks as stored: every notebook
is a page in reading order, hidden cells stay hidden, every internal link and image resolves, and headless Chromium
shows the home page and a lesson with a stored figure. Screenshots go to $FER_NB_SITE_SHOTS or a printed temp folder."""
import ast, html, importlib.util, json, os, re, shutil, subprocess, sys, time
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit
import numpy as np
import pytest
from PIL import Image

ROOT = Path(__file__).parents[1]
for pkg in ('sphinx', 'myst_nb', 'sphinx_book_theme'):
    pytest.importorskip(pkg, reason='the docs packages are not installed: pip install -e ".[docs]"')

def _load_builder():
    spec = importlib.util.spec_from_file_location('build_site', ROOT/'tools'/'build_site.py')
    m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m)
    return m

bs = _load_builder()
INDEX, LESSONS, REFERENCE = bs.reading_order(ROOT/'nbs')
NOTEBOOKS = LESSONS + REFERENCE

@pytest.fixture(scope='module')
def site(tmp_path_factory):
    "The site, built by the README's command into a new temporary folder."
    out = tmp_path_factory.mktemp('site')/'_site'
    t = time.perf_counter()
    r = subprocess.run([sys.executable, 'tools/build_site.py', '--out', str(out), '--quiet'], cwd=ROOT,
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    print(f'\nsite built in {time.perf_counter() - t:.0f} s: {out}')
    return out

class _Refs(HTMLParser):
    "Every href/src of a page, with the tag it is on."
    def __init__(self):
        super().__init__(); self.refs = []
    def handle_starttag(self, tag, attrs):
        for k, v in attrs:
            if k in ('href', 'src') and v is not None: self.refs.append((tag, dict(attrs), v))

def refs(page: Path) -> list:
    p = _Refs(); p.feed(page.read_text(encoding='utf-8')); return p.refs

def _local(site: Path, page: Path, url: str) -> Path | None:
    "The file in the build that `url` on `page` points to, or None for an outside address or a same-page anchor."
    u = urlsplit(url)
    if u.scheme or u.netloc or not u.path: return None
    path = unquote(u.path)
    return (site/path.lstrip('/')) if path.startswith('/') else (page.parent/path)

def text(page: Path) -> str: return html.unescape(re.sub(r'<[^>]+>', '', page.read_text(encoding='utf-8')))

def test_every_notebook_is_a_page_in_reading_order(site):
    assert (site/'index.html').exists() and (site/'search.html').exists() and (site/'searchindex.js').exists()
    for nb in NOTEBOOKS: assert (site/f'{nb.stem}.html').exists(), nb
    nums = [int(p.name.split('_')[0]) for p in LESSONS]
    assert nums == sorted(nums) and all(n < 20 for n in nums) and len(LESSONS) >= 10
    nav = dict.fromkeys(h for tag, a, h in refs(site/'index.html')  # the sidebar's links come first
                        if tag == 'a' and 'reference' in a.get('class', '') and h.endswith('.html') and '/' not in h)
    pages = [n.stem + '.html' for n in NOTEBOOKS]
    assert [h for h in nav if h in pages] == pages, 'sidebar: lessons by number, then reference by number'

def test_home_page_from_index_notebook_with_results_table(site):
    page, t = (site/'index.html').read_text(encoding='utf-8'), text(site/'index.html')
    assert '<table' in page and '<!-- results -->' not in page
    from fer_nb.config import MODELS
    for spec in MODELS.values(): assert spec.title in t, spec.title
    assert 'nbs/' not in ''.join(h for _, _, h in refs(site/'index.html') if not urlsplit(h).scheme)
    assert 'python tools/build_site.py' in t  # the README's docs command

def _hidden_lines(nb: Path) -> list[str]:
    "Lines of a notebook's `#| hide` cells that appear nowhere in its shown cells or outputs."
    cells = json.loads(nb.read_text(encoding='utf-8'))['cells']
    hidden = [c for c in cells if bs.directives(''.join(c['source']))[0].get('hide')]
    shown = json.dumps([c for c in cells if c not in hidden])
    lines = {l.strip() for c in hidden for l in ''.join(c['source']).splitlines()}
    return [l for l in lines if len(l) > 15 and not l.startswith('#') and json.dumps(l)[1:-1] not in shown]

def test_hidden_cells_hidden_and_directives_removed(site):
    n_checked = 0
    for nb in [INDEX] + NOTEBOOKS:
        t = text(site/f'{nb.stem}.html')
        assert not re.search(r'#\s*\|\s*(hide|export|default_exp|gpu|kaggle)\b', t), nb.name
        for line in _hidden_lines(nb):
            assert line not in t, f'{nb.name}: hidden line shown: {line}'; n_checked += 1
    assert n_checked > 20  # the notebooks hide their imports of fastcore.test, assertions ...

def test_open_in_colab_link_on_every_notebook_page(site):
    cfg = bs.settings()
    for nb in NOTEBOOKS:
        repo = cfg['git_url'].split('github.com/')[1]
        url = f"https://colab.research.google.com/github/{repo}/blob/main/nbs/{nb.name}"
        links = [(a, h) for tag, a, h in refs(site/f'{nb.stem}.html') if tag == 'a' and h == url]
        assert links, f'{nb.name}: no Open in Colab link to {url}'

def _all(py: Path) -> list[str]:
    "A generated module's `__all__`, read without importing it."
    for node in ast.parse(py.read_text(encoding='utf-8')).body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], 'id', '') == '__all__':
            return ast.literal_eval(node.value)
    return []

def test_api_page_per_module(site):
    mods = bs.modules(ROOT/'fer_nb')
    assert '_modidx' not in mods and {'config', 'data', 'models'} <= set(mods)
    for m in mods:
        page = (site/'api'/f'{m}.html').read_text(encoding='utf-8')
        for name in _all(ROOT/'fer_nb'/f'{m}.py'): assert f'id="fer_nb.{m}.{name}"' in page, f'{m}.{name}'
    assert 'Parameters' in (site/'api'/'models.html').read_text()  # docments, as show_doc shows them

def test_internal_links_and_images_resolve(site):
    pages, n = [p for p in site.rglob('*.html') if '_static' not in p.parts], 0  # _static: theme templates
    assert len(pages) >= len(NOTEBOOKS) + len(bs.modules(ROOT/'fer_nb')) + 1
    for page in pages:
        for tag, attrs, url in refs(page):
            f = _local(site, page, url)
            if f is None:  # an outside address may be linked to, but nothing is loaded from one
                loads = tag in ('script', 'img', 'iframe', 'source', 'embed', 'video', 'audio') or (tag == 'link' and
                        set(attrs.get('rel', '').split()) & {'stylesheet', 'preload', 'icon', 'modulepreload'})
                assert not (loads and urlsplit(url).scheme in ('http', 'https', '')), f'{page.name} loads {url}'
                continue
            assert f.exists(), f'{page.relative_to(site)}: {tag} {url} -> {f} missing'; n += 1
    assert n > 1000
    for css in site.rglob('*.css'):  # nor do the styles: fonts and icons ship in _static/
        assert not re.findall(r'(?:url\(|@import)\s*["\']?(?:https?:)?//', css.read_text(encoding='utf-8')), css

def _chromium():
    exe = shutil.which('chromium') or shutil.which('chromium-browser')
    if not exe: pytest.skip('chromium is not installed (Debian: apt-get install chromium)')
    return exe

@pytest.fixture(scope='module')
def shots(tmp_path_factory):
    d = Path(os.environ.get('FER_NB_SITE_SHOTS') or tmp_path_factory.mktemp('screenshots')); d.mkdir(exist_ok=True)
    print(f'\nscreenshots in {d}')
    return d

def _browser(url: str, *args, profile: Path) -> str:
    cmd = [_chromium(), '--headless', '--no-sandbox', '--disable-gpu', '--hide-scrollbars', '--no-first-run',
           f'--user-data-dir={profile}', *args, url]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr[-2000:]
    return r.stdout

def screenshot(url: str, png: Path, tmp: Path, size=(1280, 1600)) -> np.ndarray:
    _browser(url, f'--screenshot={png}', f'--window-size={size[0]},{size[1]}', profile=tmp/'profile')
    return np.asarray(Image.open(png).convert('L'), dtype=float)

def _blank(a: np.ndarray) -> bool: return a.std() < 5 or (a == np.median(a)).mean() > 0.98

def test_home_page_in_chromium(site, shots, tmp_path):
    dom = _browser((site/'index.html').as_uri(), '--dump-dom', profile=tmp_path/'profile')
    assert '<h1>fer_nb' in dom and 'Model 1: a CNN from scratch' in dom  # title, and the sidebar's lessons
    a = screenshot((site/'index.html').as_uri(), shots/'home.png', tmp_path)
    assert a.shape == (1600, 1280) and not _blank(a)

def _lesson_with_figure() -> Path:
    "The first lesson whose stored outputs hold a figure (03_model1_cnn, 02_analysis ... store full-mode runs)."
    has_png = lambda p: 'image/png' in p.read_text(encoding='utf-8')
    return next(p for p in LESSONS if has_png(p))

# Added to a copy of the lesson page: after loading, count the stored figures the browser decoded and laid out, and
# move the first one to the top of the article for the screenshot (headless Chromium's screenshots ignore scrolling).
PROBE = """<script>window.addEventListener('load', () => {
  const figs = [...document.images].filter(i => i.getAttribute('src').startsWith('_images/'));
  document.body.dataset.figures = figs.filter(i => i.complete && i.naturalWidth > 0
                                               && i.getBoundingClientRect().width > 100).length;
  if (figs.length) document.querySelector('article').prepend(figs[0].closest('.cell_output') || figs[0]);
});</script></body>"""

def test_lesson_figure_in_chromium(site, shots, tmp_path):
    lesson = site/f'{_lesson_with_figure().stem}.html'
    srcs = [s for s in re.findall(r'<img [^>]*src="([^"]+)"', lesson.read_text(encoding='utf-8')) if '_images/' in s]
    assert srcs, f'no stored figure in {lesson.name}'
    fig = np.asarray(Image.open(_local(site, lesson, srcs[0])).convert('L'), dtype=float)
    assert fig.shape[0] > 100 and fig.shape[1] > 100 and not _blank(fig)
    probe = lesson.with_name(f'_probe_{lesson.name}')
    probe.write_text(lesson.read_text(encoding='utf-8').replace('</body>', PROBE), encoding='utf-8')
    dom = _browser(probe.as_uri(), '--dump-dom', '--virtual-time-budget=5000', profile=tmp_path/'profile')
    shown = re.search(r'<body[^>]*data-figures="(\d+)"', dom)
    assert shown and int(shown.group(1)) == len(srcs), f'{len(srcs)} figures, shown: {shown and shown.group(1)}'
    _browser(probe.as_uri(), f'--screenshot={shots/lesson.stem}.png', '--window-size=1280,1600',
             '--virtual-time-budget=5000', profile=tmp_path/'profile')
    a = np.asarray(Image.open(shots/f'{lesson.stem}.png').convert('L'), dtype=float)
    assert a.shape == (1600, 1280) and not _blank(a)

def test_search_in_chromium(site, tmp_path):
    dom = _browser((site/'search.html').as_uri() + '?q=augmentation', '--dump-dom', '--virtual-time-budget=10000',
                   profile=tmp_path/'profile')
    found = re.findall(r'<li class="kind-\w+"><a href="([^"#]+)', dom)
    assert 'api/augment.html' in found and '04_model2_augmentation.html' in found, found[:10]

def test_reading_order_and_cells_without_building(tmp_path):
    for n in ['index', '10_predict', '02_analysis', '01_intro', '34_new', '20_config', '28_other', 'notes']:
        (tmp_path/f'{n}.ipynb').write_text('{}')
    index, lessons, ref = bs.reading_order(tmp_path)
    assert index.name == 'index.ipynb' and [p.stem for p in lessons] == ['01_intro', '02_analysis', '10_predict']
    assert [p.stem for p in ref] == ['20_config', '28_other', '34_new', 'notes']
    (tmp_path/'index.ipynb').unlink()
    with pytest.raises(bs.SiteError, match='index.ipynb'): bs.reading_order(tmp_path)
    code = lambda src, outs=(): {'cell_type': 'code', 'metadata': {}, 'source': src, 'outputs': list(outs)}
    assert bs.clean_cell(code('#| hide\nx = 1')) is None and bs.clean_cell(code('# | include: false\n1')) is None
    assert bs.clean_cell(code('#| default_exp data')) is None
    assert bs.clean_cell(code('#| export\ndef f(): pass'))['source'] == 'def f(): pass'
    assert bs.clean_cell(code('#| echo: false\nplot()', [{}]))['metadata']['tags'] == ['remove-input']
    assert bs.clean_cell(code('#| output: false\nx', [{}]))['outputs'] == []
    nb = {'cells': [code('#| hide\nimport x'), {'cell_type': 'markdown', 'metadata': {}, 'source': '# T\n\n> s'}]}
    page = bs.page_notebook(nb, '03_model1_cnn.ipynb')
    assert [c['source'][:15] for c in page['cells']] == ['# T\n\n> s', '[Open in Colab]']
    assert bs.colab_url('03_model1_cnn.ipynb').endswith('/github/fer-nb/fer_nb/blob/main/nbs/03_model1_cnn.ipynb')

def test_output_folder_of_user_files_is_refused(tmp_path):
    (tmp_path/'mine').mkdir(); (tmp_path/'mine'/'notes.txt').write_text('keep me')
    with pytest.raises(bs.SiteError, match='not a site built'): bs.build(tmp_path/'mine')
    assert (tmp_path/'mine'/'notes.txt').read_text() == 'keep me'
    (tmp_path/'file').write_text('x')
    with pytest.raises(bs.SiteError): bs.build(tmp_path/'file')
    r = subprocess.run([sys.executable, 'tools/build_site.py', '--out', str(tmp_path/'mine')], cwd=ROOT,
                       capture_output=True, text=True)
    assert r.returncode == 1 and r.stderr.strip().startswith('error:') and len(r.stderr.strip().splitlines()) == 1
