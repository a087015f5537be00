"""The details and file callbacks (issue 12, points 7 and 8): they round-trip within Telegram's 64 bytes,
never decode as something else, and forged ones are refused."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from bot.callbacks import MAX_BYTES, Details, DetailsList, SendFile, View, decode

ids = st.integers(1, 999_999_999)
pages = st.integers(0, 9999)
details_callbacks = st.one_of(
    st.builds(Details, ids, pages),
    st.builds(DetailsList, ids, pages),
    st.builds(SendFile, ids),
)


@given(details_callbacks)
def test_details_callbacks_round_trip_within_the_limit(cb):
    data = cb.encode()
    assert len(data.encode()) <= MAX_BYTES
    assert decode(data) == cb


@given(ids, pages)
def test_a_milestones_details_and_a_contracts_list_never_read_as_each_other(ident, page):
    assert isinstance(decode(Details(ident, page).encode()), Details)
    assert isinstance(decode(DetailsList(ident, page).encode()), DetailsList)
    assert decode(View(ident, page).encode()) == View(ident, page)


def test_forged_details_data_is_refused():
    for data in [
        "md:1",
        "md:1:2:3",
        "md:l:1",
        "md:x:1:0",
        "md:" + "9" * 10 + ":0",
        "md:1:" + "9" * 5,
        "fl:",
        "fl:1:2",
        "fl:-1",
        "fl:" + "9" * 10,
        "md:١:0",
    ]:
        assert decode(data) is None, data
