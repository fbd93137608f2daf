"""A notebook as plain text, for `git diff`: each cell's kind, tags and source, then its
text outputs, so that a review reads changed prose and code, not JSON.

Git calls it as a text converter for *.ipynb (.gitattributes names the driver `ipynb`;
the README's contributor section gives the one `git config` line that points the driver
at this file). Figures are shown as one line naming their type; glued values as
`glue name = value`. The notebook itself stays the one source of the book: the text is
made on the fly and never stored.

Run: python3 tools/nbtext.py chapters/01_pooling.ipynb
"""
import json
import sys


def cell_text(number, cell):
    """One cell as lines of text: a header, its source, its outputs (indented)."""
    tags = cell.get('metadata', {}).get('tags', [])
    header = f"# --- cell {number} [{cell['cell_type']}]" + (
        f" tags: {', '.join(tags)}" if tags else '')
    lines = [header, *''.join(cell.get('source', '')).splitlines()]
    for output in cell.get('outputs', []):
        lines += ['    ' + line for line in output_lines(output)]
    return lines


def output_lines(output):
    """The lines of one output: its text, or one line for a figure or a glued value."""
    if 'text' in output:  # a stream: stdout, stderr
        prefix = '' if output.get('name') == 'stdout' else f"[{output.get('name')}] "
        return [prefix + line for line in ''.join(output['text']).splitlines()]
    if output.get('output_type') == 'error':
        return [f"[error] {output.get('ename')}: {output.get('evalue')}"]
    data = output.get('data', {})
    glued = output.get('metadata', {}).get('scrapbook', {}).get('name')
    if glued:
        value = ''.join(data.get('application/papermill.record/text/plain', ''))
        return [f'glue {glued} = {value}']
    if 'text/plain' in data and not any(key.startswith('image/') for key in data):
        return ''.join(data['text/plain']).splitlines()
    return [f"[{', '.join(sorted(data))}]"]


def notebook_text(path):
    """The whole notebook at `path` as text."""
    with open(path, encoding='utf-8') as file:
        nb = json.load(file)
    lines = []
    for number, cell in enumerate(nb['cells']):
        lines += cell_text(number, cell) + ['']
    return '\n'.join(lines)


if __name__ == '__main__':
    for name in sys.argv[1:]:
        sys.stdout.write(notebook_text(name) + '\n')
