"""The project's own speed evidence, outside the lessons: ``python -m benchmarks.cpu_runtimes`` (see README.md here)."""
