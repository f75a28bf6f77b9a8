"The exported modules stay readable: no line over 120 characters (nbdev's own generated `__all__` aside)."
from pathlib import Path

LIB = Path(__file__).parents[1]/'fer_nb'

def test_no_long_lines():
    long = [f"{f.name}:{i}: {len(l)} chars" for f in sorted(LIB.glob('*.py')) if f.name != '_modidx.py'
            for i, l in enumerate(f.read_text().splitlines(), 1) if len(l) > 120 and not l.startswith('__all__ = ')]
    assert not long, '\n'.join(long)
