"""matplotlib's JavaScript animation player, made to work in a static, offline page.

`Animation.to_jshtml()` writes HTML that loads Font Awesome from a CDN for its buttons
and names its elements with a random id, so the same animation gives different HTML each run
(and nbval, which compares stored outputs, would fail). `offline_player` rewrites both.
"""
import hashlib
import re

# The buttons' Font Awesome icons, the player's one remote asset, as plain characters
# that work offline and in any font.
ICONS = {'fa-minus': '\u2212', 'fa-fast-backward': '|\u25c0\u25c0',
         'fa-step-backward': '|\u25c0', 'fa-play fa-flip-horizontal': '\u25c0',
         'fa-pause': '||', 'fa-play': '\u25b6', 'fa-step-forward': '\u25b6|',
         'fa-fast-forward': '\u25b6\u25b6|', 'fa-plus': '+'}
FONT_AWESOME = re.compile(
    r'<link rel="stylesheet"\s+href="https://[^"]*font-awesome[^"]*">\s*')
RANDOM_ID = re.compile(r'_anim_img([0-9a-f]{32})')


def without_remote_icons(html):
    """The player's HTML without its Font Awesome link, its icons as characters."""
    html = FONT_AWESOME.sub('', html)
    for icon, text in ICONS.items():
        html = html.replace(f'<i class="fa {icon}"></i>', text)
    return html


def with_stable_id(html):
    """The player's HTML with its random element id replaced by a hash of the rest."""
    found = RANDOM_ID.search(html)
    if found is None:
        raise ValueError('html must be the HTML of a matplotlib animation player '
                         '(Animation.to_jshtml()), found no _anim_img<id> in it')
    random_id = found.group(1)
    stable_id = hashlib.sha1(html.replace(random_id, '').encode()).hexdigest()[:32]
    return html.replace(random_id, stable_id)


def offline_player(html):
    """The player's HTML without remote assets, the same for the same animation."""
    return with_stable_id(without_remote_icons(html))
