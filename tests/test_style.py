"The exported modules stay readable: lines of at most 120 characters (nbdev's own `__all__` aside), one statement a line."
from pathlib import Path

LIB = Path(__file__).parents[1]/'fer_nb'

def test_no_long_lines():
    long = [f"{f.name}:{i}: {len(l)} chars" for f in sorted(LIB.glob('*.py')) if f.name != '_modidx.py'
            for i, l in enumerate(f.read_text().splitlines(), 1) if len(l) > 120 and not l.startswith('__all__ = ')]
    assert not long, '\n'.join(long)

def _semicolons(text:str) -> list:
    "Line numbers of `;` statement separators in Python source `text` (a `;` inside a string does not count)."
    import io, tokenize
    toks = tokenize.generate_tokens(io.StringIO(text).readline)
    return sorted({t.start[0] for t in toks if t.type == tokenize.OP and t.string == ';'})

def test_one_statement_per_line():
    assert _semicolons("a = 1; b = 2\ns = 'x; y'\n") == [1]
    chained = [f"{f.name}:{n}" for f in sorted(LIB.glob('*.py')) if f.name != '_modidx.py' for n in _semicolons(f.read_text())]
    assert not chained, 'statements chained with ; in ' + ', '.join(chained)
