"""Write each inline <script> once per page.

Sphinx 7.4 (the line jupyter-book 1.0 requires) can register an inline script twice;
sphinx-thebe's `const THEBE_JS_URL = ...` then appears twice on every page and the browser
throws "Identifier 'THEBE_JS_URL' has already been declared". Sphinx 8.2 deduplicates
inline scripts itself (sphinx-doc/sphinx#13402); until the book can move to it, this does.
"""


def _unique_scripts(app, pagename, templatename, context, doctree):
    seen, unique = set(), []
    for script in context.get('script_files', []):
        # The two copies differ only in filename None versus '': compare what is written.
        key = (getattr(script, 'filename', script) or '',
               tuple(sorted(getattr(script, 'attributes', {}).items())))
        if key not in seen:
            seen.add(key)
            unique.append(script)
    context['script_files'] = unique


def setup(app):
    app.connect('html-page-context', _unique_scripts, priority=999)  # after the themes' handlers
    return {'parallel_read_safe': True, 'parallel_write_safe': True}
