"""Drive a notebook in JupyterLab through its public command registry.

JupyterLab exposes its application as ``window.jupyterapp`` when started with
``--LabApp.expose_app_in_browser=True``. Commands such as
``notebook:run-all-cells`` return promises that resolve when the work is
done, which is a sturdier signal than watching the DOM.
"""

from __future__ import annotations

from pathlib import Path

KERNEL_IDLE = """() => {
    const panel = window.jupyterapp && window.jupyterapp.shell.currentWidget;
    const session = panel && panel.sessionContext && panel.sessionContext.session;
    return Boolean(session && session.kernel && session.kernel.status === 'idle');
}"""

RUN_ALL = """async () => {
    await window.jupyterapp.commands.execute('notebook:run-all-cells');
}"""

ERROR_OUTPUTS = """() => {
    const notebook = window.jupyterapp.shell.currentWidget.content;
    const errors = [];
    for (const cell of notebook.widgets) {
        if (cell.model.type !== 'code') continue;
        const outputs = cell.model.outputs;
        for (let index = 0; index < outputs.length; index++) {
            const output = outputs.get(index).toJSON();
            if (output.output_type === 'error') {
                errors.push(output.ename + ': ' + output.evalue);
            }
        }
    }
    return errors;
}"""

APPEND_AND_RUN = """async (source) => {
    const app = window.jupyterapp;
    const notebook = app.shell.currentWidget.content;
    notebook.activeCellIndex = notebook.widgets.length - 1;
    await app.commands.execute('notebook:insert-cell-below');
    notebook.activeCell.model.sharedModel.setSource(source);
    await app.commands.execute('notebook:run-cell');
}"""

SAVE = """async () => {
    await window.jupyterapp.commands.execute('docmanager:save');
}"""


def open_notebook(context, url: str):
    """Open ``url`` in a new page and wait until the notebook's kernel is idle."""
    page = context.new_page()
    page.goto(url)
    page.wait_for_selector(".jp-Notebook")
    page.wait_for_function(KERNEL_IDLE)
    return page


def run_all_cells(page) -> list[str]:
    """Run every cell, wait for the last one, and return the error outputs."""
    page.evaluate(RUN_ALL)
    page.wait_for_function(KERNEL_IDLE)
    return page.evaluate(ERROR_OUTPUTS)


def append_and_run(page, source: str):
    """Add a code cell at the end, run it, and return its output area."""
    page.evaluate(APPEND_AND_RUN, source)
    page.wait_for_function(KERNEL_IDLE)
    # Widget Output areas nest their own .jp-OutputArea, so name the cell's.
    return page.locator(".jp-Notebook .jp-Cell").last.locator(".jp-Cell-outputArea")


def save_notebook(page) -> None:
    page.evaluate(SAVE)


def fill_field(form, label: str, value: str) -> None:
    """Type ``value`` into the text field labelled ``label`` and leave the field.

    The course forms sync on change (when the field loses focus), as a
    student's edit would.
    """
    field = form.get_by_label(label, exact=True)
    field.fill(value)
    field.blur()


def upload_file(form, path: Path) -> None:
    """Pick ``path`` in the file chooser that the form's upload button opens."""
    page = form.page
    with page.expect_file_chooser() as chooser:
        form.locator(".widget-upload").click()
    chooser.value.set_files(str(path))
