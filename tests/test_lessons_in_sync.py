"""Each notebook is generated from its lesson source and committed executed."""

from __future__ import annotations

import pytest

from mailcourse import authoring

LESSONS = authoring.lesson_sources()


def test_lessons_exist():
    assert LESSONS, "no lesson sources found in lessons/"


@pytest.mark.parametrize("lesson", LESSONS, ids=[lesson.stem for lesson in LESSONS])
def test_notebook_matches_lesson(lesson):
    assert authoring.differences(lesson) == []
