"""The registry of lessons: lesson id (folder name under source/) -> its suite module."""
import importlib

SUITES = {
    "01_pooling": "autograder.grading.suites.pooling",
    "02_cnn_backprop": "autograder.grading.suites.backprop",
    "03_conv_variants": "autograder.grading.suites.variants",
    "04_normalization": "autograder.grading.suites.normalization",
    "05_making_it_fast": "autograder.grading.suites.fast",
}


def get_lesson(lesson_id):
    """Return the `Lesson` with this id; KeyError names the known ids."""
    if lesson_id not in SUITES:
        raise KeyError(f"unknown lesson {lesson_id!r}; known: {', '.join(SUITES)}")
    return importlib.import_module(SUITES[lesson_id]).LESSON


def available_lessons():
    """Every lesson whose suite module exists, in course order."""
    lessons = []
    for lesson_id in SUITES:
        try:
            lessons.append(get_lesson(lesson_id))
        except ModuleNotFoundError:
            continue
    return lessons
