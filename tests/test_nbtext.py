"""tools/nbtext.py: a notebook as the text git diffs (expected lines written by hand)."""
import json

from tools.nbtext import notebook_text

NOTEBOOK = {'cells': [
    {'cell_type': 'markdown', 'metadata': {}, 'source': ['# Title\n', 'Some prose.']},
    {'cell_type': 'code', 'metadata': {'tags': ['nbval-ignore-output']},
     'source': ['print(1)\n', "glue('x', 2.5)"], 'outputs': [
         {'output_type': 'stream', 'name': 'stdout', 'text': ['1\n']},
         {'output_type': 'stream', 'name': 'stderr', 'text': ['careful\n']},
         {'output_type': 'display_data', 'metadata': {'scrapbook': {'name': 'x'}},
          'data': {'application/papermill.record/text/plain': '2.5'}},
         {'output_type': 'display_data', 'metadata': {},
          'data': {'image/png': 'iVBOR', 'text/plain': ['<Figure>']}},
         {'output_type': 'execute_result', 'metadata': {}, 'execution_count': 1,
          'data': {'text/plain': ['(3, 4)']}},
         {'output_type': 'error', 'ename': 'ValueError', 'evalue': 'k must be 1',
          'traceback': []}]}],
    'metadata': {}, 'nbformat': 4, 'nbformat_minor': 5}


def test_every_cell_and_output_becomes_text(tmp_path):
    path = tmp_path / 'x.ipynb'
    path.write_text(json.dumps(NOTEBOOK))
    assert notebook_text(path).splitlines() == [
        '# --- cell 0 [markdown]', '# Title', 'Some prose.', '',
        '# --- cell 1 [code] tags: nbval-ignore-output', 'print(1)', "glue('x', 2.5)",
        '    1', '    [stderr] careful', '    glue x = 2.5', '    [image/png, text/plain]',
        '    (3, 4)', '    [error] ValueError: k must be 1']
