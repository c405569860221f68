"""The patient view's splitter shares its height out by a rule that depends only on the height and the minimums."""

from hypothesis import given, strategies as st

from tohtrack.gui.patient_view import SPLIT, share_out


@given(total=st.integers(0, 5000), least=st.lists(st.integers(0, 600), min_size=3, max_size=3))
def test_every_part_gets_its_minimum_and_the_parts_fill_the_height(total, least):
    sizes = share_out(total, least, SPLIT)
    assert len(sizes) == 3
    assert all(size >= low for size, low in zip(sizes, least))
    if total >= sum(least):
        assert sum(sizes) == total
    else:
        assert sizes == least  # too small for the minimums: the splitter's own clamping takes over


@given(total=st.integers(900, 5000))
def test_without_binding_minimums_the_parts_keep_the_proportions(total):
    sizes = share_out(total, [0, 0, 0], SPLIT)
    for size, factor in zip(sizes, SPLIT):
        assert abs(size - total * factor / sum(SPLIT)) <= 2


def test_a_part_held_at_its_minimum_leaves_the_rest_in_proportion():
    sizes = share_out(900, [400, 0, 0], (2, 4, 3))
    assert sizes[0] == 400 and abs(sizes[1] / sizes[2] - 4 / 3) < 0.02 and sum(sizes) == 900
