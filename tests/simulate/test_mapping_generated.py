"""The mapping's generated line function (``Mapping._line_builder``) against the loop it unrolls: the
plan interpreted field by field, as the mapping worked before. On random mappings (columns renamed,
defaults, scales, a derived field, attributes from columns) and random source lines, both give the
same line dict, key order included, or the same error."""

from __future__ import annotations

import pickle
from typing import Any

from hypothesis import example, given, settings
from hypothesis import strategies as st

from loyadsl.simulate.errors import FieldError
from loyadsl.simulate.mapping import Mapping, _attr, _pairs


def interpreted(m: Mapping, src: Any, i: int) -> dict[str, Any]:
    """The reference: ``_plan`` run by a loop."""
    if type(src) is not dict:
        raise FieldError(f"lines[{i}]", "a line is a JSON object")
    out: dict[str, Any] = {"line_no": None}
    get = src.get
    for name, column, default, ready, convert in m._plan:
        value = get(column)
        if value is None:
            value = default
            if value is None:
                continue
        if type(value) not in ready:
            value = convert(value, f"lines[{i}].{name}")
        out[name] = value
    if m.derive is not None and m.derive not in out:
        m._derive(out)
    attrs = get("attrs")
    if attrs is not None and type(attrs) is not dict:
        attrs = _pairs(attrs)
    elif attrs is not None and None in attrs.values():
        attrs = {k: v for k, v in attrs.items() if v is not None}
    if m.attrs:
        extra = {a: _attr(src[c]) for a, c in m.attrs.items() if get(c) is not None}
        if isinstance(attrs, dict):
            attrs = {**attrs, **extra}
        elif attrs is None and extra:
            attrs = extra
    if attrs is not None:
        out["attrs"] = attrs
    return out


def outcome(run: Any) -> tuple[str, Any]:
    try:
        return "ok", run()
    except FieldError as exc:
        return "error", (exc.code, str(exc))


COLUMNS = ["line_no", "sku", "category", "brand", "qty", "unit_price", "amount", "min_price", "ITEM", "PRICE", "DEPT"]
values = st.one_of(st.none(), st.integers(-5, 10**6), st.sampled_from([0.5, 1.25, 2.0, 0.0005]),
                   st.sampled_from(["", "7", "1.5", "12,34", " 3 ", "x", "A-1"]), st.booleans(),
                   st.just([["k", "v"]]), st.just({"k": "v", "n": None}), st.just({"k": "v"}))
mappings = st.builds(
    lambda columns, defaults, scale, derive, attrs, comma: Mapping.from_dict(
        {"columns": columns, "defaults": defaults, "scale": scale, "derive": derive, "attrs": attrs,
         "decimal": "," if comma else "."}),
    st.dictionaries(st.sampled_from(["sku", "unit_price", "amount", "category", "qty"]),
                    st.sampled_from(["ITEM", "PRICE", "DEPT", "amount"]), max_size=2),
    st.dictionaries(st.sampled_from(["category", "brand", "qty", "min_price"]),
                    st.sampled_from(["", "c", 1, "2.5"]), max_size=2),
    st.dictionaries(st.sampled_from(["amount", "unit_price", "qty"]), st.sampled_from([100, "0.001", 1]),
                    max_size=2),
    st.sampled_from([None, "amount", "unit_price"]),
    st.dictionaries(st.sampled_from(["department", "size"]), st.sampled_from(["DEPT", "SIZE", "sku"]), max_size=2),
    st.booleans())
lines = st.one_of(st.fixed_dictionaries({}, optional={key: values for key in [*COLUMNS, "attrs", "SIZE"]}),
                  st.sampled_from([None, 3, "line", []]))


@settings(max_examples=400, deadline=None)
@example(mapping=Mapping.from_dict({"attrs": {"department": "DEPT"}}), src={"DEPT": 7, "attrs": {"k": "v"}}, i=0)
@given(mapping=mappings, src=lines, i=st.integers(0, 3))
def test_the_generated_line_function_is_the_plan(mapping: Mapping, src: Any, i: int) -> None:
    mine, theirs = outcome(lambda: mapping._line(src, i)), outcome(lambda: interpreted(mapping, src, i))
    assert repr(mine) == repr(theirs)  # types and key order too: the quarantine writes the dict as it is


def test_a_mapping_pickles_after_use() -> None:
    """Scan jobs carry the mapping to workers: the generated function is made again there."""
    m = Mapping.from_spec("sku=ITEM,attrs.dept=DEPT")
    line = {"ITEM": "A", "category": "c", "qty": 1, "unit_price": 5, "amount": 5, "DEPT": "D"}
    first = m._line(line, 0)
    copy = pickle.loads(pickle.dumps(m))
    assert copy._line(line, 0) == first == {"line_no": None, "sku": "A", "category": "c", "qty": 1,
                                             "unit_price": 5, "amount": 5, "attrs": {"dept": "D"}}
