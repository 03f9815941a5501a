"""The Arrow CSV writer (dashboard.export.registry.cells_csv) writes what pandas' to_csv writes,
byte for byte, for every kind of column csv_frame makes: checked against pandas (an independent
writer: the csv module) on generated frames, including the characters that need quotes."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from dashboard.export.registry import _arrow_cells, cells_csv, csv_frame
from dashboard.export.tables import csv_chunks
from dashboard.metrics.columns import STRING

TEXT = st.text(alphabet=st.sampled_from(list('ab ,"\r\n\t=-é€1.')), max_size=6)


def _pandas(cells: pd.DataFrame, header: bool = True) -> str:
    return cells.to_csv(index=False, header=header, lineterminator="\n")


@st.composite
def frames(draw):
    n = draw(st.integers(min_value=1, max_value=12))
    kinds = draw(
        st.lists(
            st.sampled_from(["text", "arrow", "int", "nullable", "float", "date", "bool"]),
            min_size=2,
            max_size=6,
        )
    )
    columns = {}
    for k, kind in enumerate(kinds):
        name = draw(st.sampled_from([f"c{k}", f"c,{k}", f'q"{k}']))
        if kind == "text":
            values = draw(st.lists(st.one_of(st.none(), TEXT), min_size=n, max_size=n))
            columns[name] = pd.Series(values, dtype=object)
        elif kind == "arrow":
            values = draw(st.lists(st.one_of(st.none(), TEXT), min_size=n, max_size=n))
            columns[name] = pd.Series(values, dtype=STRING)
        elif kind == "int":
            values = draw(st.lists(st.integers(-(2**62), 2**62), min_size=n, max_size=n))
            columns[name] = pd.Series(np.array(values, dtype=np.int64))
        elif kind == "nullable":
            values = draw(
                st.lists(st.one_of(st.none(), st.integers(-999, 999)), min_size=n, max_size=n)
            )
            columns[name] = pd.Series(values, dtype="Int64")
        elif kind == "float":
            values = draw(
                st.lists(
                    st.one_of(
                        st.just(float("nan")), st.floats(allow_nan=False, allow_infinity=False)
                    ),
                    min_size=n,
                    max_size=n,
                )
            )
            columns[name] = pd.Series(np.array(values, dtype=np.float64))
        elif kind == "date":
            values = draw(
                st.lists(
                    st.one_of(st.none(), st.dates(dt.date(1990, 1, 1), dt.date(2100, 1, 1))),
                    min_size=n,
                    max_size=n,
                )
            )
            columns[name] = pd.Series(values, dtype=object)
        else:
            values = draw(st.lists(st.booleans(), min_size=n, max_size=n))
            columns[name] = pd.Series(values)
    return pd.DataFrame(columns)


@settings(max_examples=300, deadline=None)
@given(frames())
def test_arrow_csv_is_pandas_csv_byte_for_byte(frame):
    cells = csv_frame(frame)
    assert _arrow_cells(cells) is not None  # the fast path is the one checked
    assert cells_csv(cells) == _pandas(cells)
    assert cells_csv(cells, header=False) == _pandas(cells, header=False)
    assert "".join(csv_chunks(frame, chunk_rows=3)) == _pandas(cells)


def test_quotes_and_the_plain_path_for_other_columns():
    cells = pd.DataFrame(
        {"name": ["Smith, Inc", 'say "hi"', "two\nlines", None, "plain"], "n": range(5)}
    )
    assert cells_csv(cells) == (
        'name,n\n"Smith, Inc",0\n"say ""hi""",1\n"two\nlines",2\n,3\nplain,4\n'
    )
    # a lone carriage return is quoted as this Python's csv module does (it changed over versions)
    cr = pd.DataFrame({"name": ["cr\rhere"], "n": [0]})
    assert cells_csv(cr) == _pandas(cr)
    # one column (the csv module quotes a lone empty field) and mixed objects go to pandas
    lone = pd.DataFrame({"name": ["", "x"]})
    assert cells_csv(lone) == _pandas(lone) == 'name\n""\nx\n'
    mixed = pd.DataFrame({"a": ["x", 1], "b": [1, 2]})
    assert _arrow_cells(mixed) is None and cells_csv(mixed) == _pandas(mixed)
    empty = pd.DataFrame({"a": pd.Series([], dtype=object), "b": pd.Series([], dtype=np.int64)})
    assert cells_csv(empty) == _pandas(empty) == "a,b\n"
