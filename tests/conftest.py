import importlib.util, os, subprocess, sys, time, types, pytest
import numpy as np
from pathlib import Path

@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path, monkeypatch):
    "Each test gets its own cache and results folder; the real-data env vars stay untouched."
    monkeypatch.setenv('FER_NB_CACHE', str(tmp_path/'cache'))
    monkeypatch.setenv('FER_NB_RESULTS', str(tmp_path/'results'))
    for k in ('KAGGLE_USERNAME', 'KAGGLE_KEY', 'KAGGLE_API_TOKEN'): monkeypatch.delenv(k, raising=False)
    monkeypatch.setenv('KAGGLE_CONFIG_DIR', str(tmp_path/'no-kaggle'))
    (tmp_path/'home').mkdir()  # a home that exists, as IPython and Chromium expect
    monkeypatch.setenv('HOME', str(tmp_path/'home'))

def load_tool(name:str):
    "The script `tools/<name>.py` imported as a module (the tools are scripts, not a package)."
    spec = importlib.util.spec_from_file_location(name, Path(__file__).parents[1]/'tools'/f'{name}.py')
    m = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(m)
    return m

def real_source():
    "The real FER-2013 named by FER2013_DIR or FER2013_ZIP, or None."
    return os.environ.get('FER2013_DIR') or os.environ.get('FER2013_ZIP')

# fer_nb's own cache as the session found it (`FER_NB_CACHE`, else ~/.cache/fer_nb), before `_isolated_cache` hides it
REAL_CACHE = Path(os.environ.get('FER_NB_CACHE', '~/.cache/fer_nb')).expanduser()

@pytest.fixture(scope='session')
def real_cache():
    """The cache the real-data tests share: fer_nb's own, where the notebooks (`nbdev_test`, run first by the README's
    test command) already decoded FER-2013, so it is extracted and decoded at most once. Its writes are atomic."""
    return REAL_CACHE

def consistent(r):
    "A quick-mode run record agrees with itself: accuracy with its confusion matrix, macro F1 with its classes."
    cm = np.array(r['confusion_matrix'])
    assert r['test_accuracy'] == pytest.approx(np.trace(cm)/cm.sum()) and cm.sum() == r['n_test']
    assert r['macro_f1'] == pytest.approx(np.mean(list(r['per_class_f1'].values())))
    assert r['result'] is False  # quick mode is never a result

@pytest.hookimpl(optionalhook=True)
def pytest_xdist_auto_num_workers(config):
    "`-n auto`: `PYTEST_XDIST_AUTO_NUM_WORKERS` if set, else one worker per usable core, at most 4."
    if n := os.environ.get('PYTEST_XDIST_AUTO_NUM_WORKERS'): return int(n)
    return max(1, min(len(os.sched_getaffinity(0)) if hasattr(os, 'sched_getaffinity') else os.cpu_count() or 1, 4))


# The README's main job, `fer-nb course --mode quick` on synthetic faces, is the suite's longest test. The first
# pytest process (the xdist controller, which runs no tests itself, or the only process) starts it in the background
# as the session starts, so it trains while the other tests run; tests/test_course.py waits for it and checks it.
QUICK_COURSE = 'FER_NB_TEST_QUICK_COURSE'

def _wants_course(config) -> bool:
    "True when this session runs tests/test_course.py: named, or in a folder named, and no `-k`/`-m` selection."
    if config.getoption('keyword') or config.getoption('markexpr'): return False  # started on demand if selected
    here = Path(__file__).parent/'test_course.py'
    for a in config.args:
        p = Path(a.split('::')[0]).resolve()
        if p == here.resolve() or (p.is_dir() and here.resolve().is_relative_to(p)): return True
    return False

def start_quick_course(folder:Path) -> subprocess.Popen:
    "Start `fer-nb course --mode quick` into `folder/r` with a clean environment; it writes `folder/rc` when done."
    env = {k: v for k, v in os.environ.items() if k not in ('FER2013_ZIP', 'FER2013_DIR', 'FER_NB_RESULTS', QUICK_COURSE)}
    env |= {'FER_NB_CACHE': str(folder/'cache'), 'HOME': str(folder/'home'), 'KAGGLE_CONFIG_DIR': str(folder/'no-kaggle')}
    for k in ('KAGGLE_USERNAME', 'KAGGLE_KEY', 'KAGGLE_API_TOKEN'): env.pop(k, None)
    code = ("import os, sys, subprocess\n"
            "rc = -1\n"
            "try:\n"
            "    rc = subprocess.run([sys.executable, '-c', 'import sys; from fer_nb.cli import main; sys.exit(main())',"
            f" 'course', '--mode', 'quick', '--out', {str(folder/'r')!r}], stdout=open({str(folder/'stdout')!r}, 'w'),"
            f" stderr=open({str(folder/'stderr')!r}, 'w')).returncode\n"
            "finally:\n"  # an rc file even if the wrapper itself fails, so no test waits for nothing
            f"    open({str(folder/'rc.tmp')!r}, 'w').write(str(rc))\n"
            f"    os.replace({str(folder/'rc.tmp')!r}, {str(folder/'rc')!r})\n")
    return subprocess.Popen([sys.executable, '-c', code], env=env, start_new_session=True)

def _own_course(config, folder:Path):
    "Start the quick course in `folder`, and stop it (if still running) and remove `folder` when pytest ends."
    p = start_quick_course(folder)
    def cleanup():
        if p.poll() is None:
            import signal
            os.killpg(p.pid, signal.SIGTERM)
            p.wait()
        import shutil
        shutil.rmtree(folder, ignore_errors=True)
    config.add_cleanup(cleanup)  # runs even when the session fails to start or is interrupted

def pytest_sessionstart(session):
    "In the first pytest process only: start the quick course when test_course.py is part of the run."
    if hasattr(session.config, 'workerinput') or os.environ.get(QUICK_COURSE) or not _wants_course(session.config):
        return
    import tempfile
    folder = Path(tempfile.mkdtemp(prefix='fer-nb-quick-course-'))
    _own_course(session.config, folder)
    os.environ[QUICK_COURSE] = str(folder)  # xdist's workers start after this hook and inherit it

def quick_course_result(config, timeout:float=1500):
    "Wait for the background quick course (starting it here if no process did): (completed process, results folder)."
    folder = os.environ.get(QUICK_COURSE)
    if not folder:
        import tempfile
        folder = tempfile.mkdtemp(prefix='fer-nb-quick-course-')
        os.environ[QUICK_COURSE] = folder
        _own_course(config, Path(folder))
    folder, t = Path(folder), time.time()
    while not (folder/'rc').exists():
        if time.time() - t > timeout: pytest.fail(f"the quick course in {folder} did not finish in {timeout} s")
        time.sleep(2)
    return (types.SimpleNamespace(returncode=int((folder/'rc').read_text()), stdout=(folder/'stdout').read_text(),
                                  stderr=(folder/'stderr').read_text()), folder/'r')
