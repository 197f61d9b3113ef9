"""Placing the route map's labels: inside the frame and apart, whatever the points and the names."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from web.pages.map_labels import Box, place_labels, text_width

FRAME = Box(0.0, 0.0, 960.0, 540.0)
ROOM = 330.0  # labels up to ~300 units wide must fit beside a point this far inside the frame

names = st.text(
    alphabet=st.sampled_from(
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyzАБВГДЕЖЗабвгдежз深圳莫斯科 ()"
    ),
    min_size=2,
    max_size=24,
)
points = st.tuples(
    st.floats(FRAME.left + ROOM, FRAME.right - ROOM),
    st.floats(FRAME.top + 60, FRAME.bottom - 60),
    names,
)


@settings(max_examples=300, deadline=None)
@given(st.lists(points, min_size=1, max_size=3), st.floats(0.4, 1.0))
def test_up_to_three_labels_are_inside_the_frame_and_never_on_each_other(labels, k):
    placed = place_labels(labels, FRAME, k)
    assert len(placed) == len(labels)
    for spot in placed:
        assert spot.box.inside(FRAME)
    for i, a in enumerate(placed):
        for b in placed[i + 1 :]:
            assert a.box.overlap(b.box) == 0


def test_a_label_near_the_right_edge_is_written_to_the_left_of_its_point():
    (spot,) = place_labels([(950.0, 300.0, "Vladivostok")], FRAME, 1.0)
    assert spot.anchor == "end" and spot.box.inside(FRAME)


def test_chinese_characters_are_counted_a_full_em_wide():
    assert text_width("深圳", 10.0) == 20.0 and text_width("ab", 10.0) < 12.0
