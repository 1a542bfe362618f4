"""Tools for maintainers of this project: generated notebook cells, structure rules, the offline test environment.

No notebook imports these (the generated Colab cell runs one file here by path); maintainers and the tests use them.
"""
