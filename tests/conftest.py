import os, pytest
from pathlib import Path

@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path, monkeypatch):
    "Each test gets its own cache and results folder; the real-data env vars stay untouched."
    monkeypatch.setenv('FER_NB_CACHE', str(tmp_path/'cache'))
    monkeypatch.setenv('FER_NB_RESULTS', str(tmp_path/'results'))
    for k in ('KAGGLE_USERNAME', 'KAGGLE_KEY', 'KAGGLE_API_TOKEN'): monkeypatch.delenv(k, raising=False)
    monkeypatch.setenv('KAGGLE_CONFIG_DIR', str(tmp_path/'no-kaggle'))
    monkeypatch.setenv('HOME', str(tmp_path/'home'))

def real_source():
    "The real FER-2013 named by FER2013_DIR or FER2013_ZIP, or None."
    return os.environ.get('FER2013_DIR') or os.environ.get('FER2013_ZIP')

@pytest.fixture(scope='session')
def real_cache(tmp_path_factory):
    "One cache shared by the real-data tests, so FER-2013 is extracted and decoded once per run."
    return tmp_path_factory.mktemp('real-cache')
