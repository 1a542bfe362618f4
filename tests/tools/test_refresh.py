"""`helpers.maintain.refresh.strip_unchecked_outputs`: what a refreshed notebook keeps, in a form nbval accepts."""

import json

import nbformat

from helpers.maintain.refresh import strip_unchecked_outputs


def _executed_notebook():
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell("# T"),
        nbformat.v4.new_code_cell("x = 1\nx"),
        nbformat.v4.new_code_cell("print(1)", metadata={"tags": ["nbval-check-output"]}),
        nbformat.v4.new_code_cell("print('timing')"),
        nbformat.v4.new_code_cell("# NBVAL_CHECK_OUTPUT\n2"),  # the comment form: moved into the tag
    ]
    for count, cell in enumerate(nb.cells[1:], start=7):
        cell.execution_count = count
        cell.metadata["execution"] = {"iopub.execute_input": "2024-01-01T00:00:00"}
    nb.cells[1].outputs = [nbformat.v4.new_output("execute_result", data={"text/plain": "1"}, execution_count=7)]
    nb.cells[2].outputs = [nbformat.v4.new_output("stream", name="stdout", text="1\n")]
    nb.cells[3].outputs = [nbformat.v4.new_output("stream", name="stdout", text="timing\n")]
    nb.cells[4].outputs = [nbformat.v4.new_output("execute_result", data={"text/plain": "2"}, execution_count=10)]
    return json.loads(nbformat.writes(nb))


def test_only_checked_cells_keep_outputs_and_they_are_numbered_in_order():
    cells = strip_unchecked_outputs(_executed_notebook())["cells"]
    assert [c.get("execution_count") for c in cells[1:]] == [None, 1, None, 2]
    assert [len(c["outputs"]) for c in cells[1:]] == [0, 1, 0, 1]
    assert cells[4]["outputs"][0]["execution_count"] == 2
    assert all("execution" not in c["metadata"] for c in cells)


def test_the_comment_form_becomes_the_tag_and_leaves_the_code():
    cells = strip_unchecked_outputs(_executed_notebook())["cells"]
    assert (cells[4]["source"], cells[4]["metadata"]["tags"]) == (["2"], ["nbval-check-output"])
    assert (cells[2]["source"], cells[2]["metadata"]["tags"]) == (["print(1)"], ["nbval-check-output"])
    assert "tags" not in cells[3]["metadata"]


def test_checked_cells_with_outputs_are_never_left_unrun_for_nbval():
    """nbval fails a reference cell that has outputs but execution_count None ('Unrun reference cell has outputs')."""
    for cell in strip_unchecked_outputs(_executed_notebook())["cells"]:
        if cell["cell_type"] == "code" and cell["outputs"]:
            assert cell["execution_count"] is not None


def test_stripping_is_idempotent():
    once = strip_unchecked_outputs(_executed_notebook())
    assert strip_unchecked_outputs(json.loads(json.dumps(once))) == once


def test_saved_widget_state_goes_unless_a_kept_output_shows_a_widget():
    widgets = {"application/vnd.jupyter.widget-state+json": {"state": {"abc": {}}, "version_major": 2}}
    notebook = _executed_notebook()
    notebook["metadata"]["widgets"] = widgets
    assert "widgets" not in strip_unchecked_outputs(notebook)["metadata"]

    notebook = _executed_notebook()
    notebook["metadata"]["widgets"] = widgets
    view = {"application/vnd.jupyter.widget-view+json": {"model_id": "abc"}, "text/plain": "bar"}
    notebook["cells"][4]["outputs"] = [nbformat.v4.new_output("display_data", data=view)]
    assert strip_unchecked_outputs(json.loads(json.dumps(notebook)))["metadata"]["widgets"] == widgets


def test_refresh_stores_the_picture_of_a_real_data_figure_cell_and_no_other(tmp_path):
    """A real kernel, run as refresh runs it: the tagged cell's figure is stored as a PNG (the tests' own Agg
    backend would draw none), the untagged one is not."""
    import base64
    import io

    from PIL import Image

    from helpers.maintain.lessons import REAL_DATA_FIGURE
    from helpers.maintain.notebook_files import read_notebook, write_notebook
    from helpers.maintain.refresh import refresh

    draw = "import matplotlib.pyplot as plt\nfig, ax = plt.subplots(figsize=(2, 1))\nax.plot([0, 1])\nplt.show()"
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(draw), nbformat.v4.new_code_cell(draw)]
    nb.cells[0].metadata["tags"] = [REAL_DATA_FIGURE]
    path = tmp_path / "figures.ipynb"
    write_notebook(path, json.loads(nbformat.writes(nb)))
    refresh(path)
    tagged, untagged = read_notebook(path)["cells"]
    (picture,) = tagged["outputs"]
    with Image.open(io.BytesIO(base64.b64decode(picture["data"]["image/png"]))) as image:
        assert image.mode == "P" and 100 < image.size[0] < 400 and 50 < image.size[1] < 200  # 2 x 1 in, cropped
    assert untagged["outputs"] == []
