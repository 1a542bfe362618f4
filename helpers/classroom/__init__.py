"""Tools for instructors: prefetch checkpoints and images for an offline room, render executed previews.

No notebook imports these; instructors run them, e.g. ``python -m helpers.classroom.prefetch``.
"""
