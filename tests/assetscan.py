"""Find remote assets named in a built book's HTML, CSS and JavaScript, without a browser.

A second, cheap line behind the browser run. It flags what makes a browser fetch from
another host while rendering: in HTML, src/srcset/poster/data attributes, <link href>
other than navigational rels, a meta refresh, and CSS in <style> or style=""; in CSS,
@import and url(); in JS and inline scripts, the same markup or CSS written as strings.
Not flagged: <a href> (a link the reader may follow, e.g. Binder, GitHub, d2l.ai) and
bare URL strings in JS, which are not fetched when a page renders: sphinx-thebe's
unpkg.com address (THEBE_JS_URL) only when a reader starts live code; MathJax's files
name CDNs (latest.js's table of them, jsdelivr in a11y/sre.js for the speech-rule
engine) used on demand if at all. The browser run shows that none is fetched.
"""
import re

from bs4 import BeautifulSoup

REMOTE = re.compile(r'^\s*(?:https?:)?//', re.I)
CSS_REMOTE = re.compile(r'''@import\s+(?:url\(\s*)?["']?((?:https?:)?//[^"')\s;]+)'''
                        r'''|url\(\s*["']?((?:https?:)?//[^"')\s]+)''', re.I)
MARKUP_REMOTE = re.compile(r'''<(?:script|link|img|iframe|source|video|audio|embed)\b'''
                           r'''[^>]*?\b(?:src|href)\s*=\s*\\?["']?((?:https?:)?//[^"'\\>\s]+)''',
                           re.I)
NAVIGATION_RELS = {'alternate', 'author', 'bookmark', 'canonical', 'first', 'help', 'index',
                   'last', 'license', 'me', 'next', 'prev', 'previous', 'search', 'up'}


def remote_in_code(text, css_only=False):
    """Remote addresses that CSS (and, unless css_only, markup written in code) fetches."""
    found = [m.group(1) or m.group(2) for m in CSS_REMOTE.finditer(text)]
    if not css_only:
        found += [m.group(1) for m in MARKUP_REMOTE.finditer(text)]
    return found


def remote_in_html(soup):
    """[(tag, address)] for the remote assets an HTML page names."""
    found = []
    for tag in soup.find_all(True):
        urls = [tag[attr] for attr in ('src', 'poster', 'data', 'background')
                if REMOTE.match(tag.get(attr) or '')]
        for attr in ('srcset', 'imagesrcset'):
            urls += [c.split()[0] for c in (tag.get(attr) or '').split(',') if c.split()]
        if tag.name == 'link' and not set(tag.get('rel') or ['?']) <= NAVIGATION_RELS:
            urls.append(tag.get('href') or '')
        if tag.name == 'meta' and (tag.get('http-equiv') or '').lower() == 'refresh':
            urls += re.findall(r'url\s*=\s*[\'"]?([^\'";]+)', tag.get('content', ''), re.I)
        urls += remote_in_code(tag.get('style') or '', css_only=True)
        if tag.name == 'style':
            urls += remote_in_code(tag.get_text(), css_only=True)
        if tag.name == 'script' and not tag.get('src'):
            urls += remote_in_code(tag.get_text())
        found += [(f'<{tag.name}>', url) for url in dict.fromkeys(urls) if REMOTE.match(url)]
    return found


def remote_assets(root):
    """[(file, what, address)] for every remote asset named in root's .html/.css/.js."""
    found = []
    for path in sorted(root.rglob('*')):
        name = str(path.relative_to(root))
        if path.suffix not in ('.html', '.css', '.js'):
            continue
        text = path.read_text(encoding='utf-8', errors='replace')
        if path.suffix == '.css':
            text = re.sub(r'/\*.*?\*/', '', text, flags=re.S)
            found += [(name, 'css', url) for url in remote_in_code(text, css_only=True)]
        elif path.suffix == '.js':
            found += [(name, 'js', url) for url in remote_in_code(text)]
        else:
            found += [(name, what, url)
                      for what, url in remote_in_html(BeautifulSoup(text, 'html.parser'))]
    return found
