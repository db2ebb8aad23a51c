import pytest

from apps.calibration.clip_excerpt import Excerpt, ExcerptError


@pytest.mark.parametrize(("text", "span", "crop"), [
    ("t=4.6..7.9;crop=632x556+1032+230", (4.6, 7.9), (632, 556, 1032, 230)),
    ("t=0..2", (0.0, 2.0), None),
    (" t=1.25..3 ", (1.25, 3.0), None),
])
def test_an_excerpt_reads_back_as_written(text: str, span: tuple[float, float], crop):
    excerpt = Excerpt.parse(text)
    assert (excerpt.start_s, excerpt.end_s, excerpt.crop) == (*span, crop)
    assert Excerpt.parse(str(excerpt)) == excerpt and excerpt.duration_s == pytest.approx(span[1] - span[0])


@pytest.mark.parametrize("text", ["", "t=2..2", "t=-1..2", "t=1..2;crop=1x100+0+0", "t=1..2;crop=10x10+0", "1..2"])
def test_an_excerpt_that_is_no_span_of_a_video_is_refused(text: str):
    with pytest.raises(ExcerptError):
        Excerpt.parse(text)
