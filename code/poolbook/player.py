"""matplotlib's JavaScript animation player, made to work in a static, offline page.

`Animation.to_jshtml()` writes HTML that loads Font Awesome from a CDN for its buttons
and names its elements with a random id, so the same animation gives different HTML each run
(and nbval, which compares stored outputs, would fail). `offline_player` rewrites both.
It also gives the player a note for paper, where its buttons do nothing: the book's print
stylesheet (_static/print.css) hides the buttons and shows the note in their place; on
screen the note stays hidden. And it shows frames drawn at several times the pixels
(`pixel_ratio`) at their own size, so that they stay sharp when zoomed or printed.
"""
import base64
import hashlib
import re
import struct

# The buttons' Font Awesome icons, the player's one remote asset, as plain characters
# that work offline and in any font.
ICONS = {'fa-minus': '\u2212', 'fa-fast-backward': '|\u25c0\u25c0',
         'fa-step-backward': '|\u25c0', 'fa-play fa-flip-horizontal': '\u25c0',
         'fa-pause': '||', 'fa-play': '\u25b6', 'fa-step-forward': '\u25b6|',
         'fa-fast-forward': '\u25b6\u25b6|', 'fa-plus': '+'}
FONT_AWESOME = re.compile(
    r'<link rel="stylesheet"\s+href="https://[^"]*font-awesome[^"]*">\s*')
RANDOM_ID = re.compile(r'_anim_img([0-9a-f]{32})')
IMAGE = re.compile(r'<img id="(_anim_img[0-9a-f]{32})">')  # where the frames show
CONTROLS = '<div class="anim-controls">'
# What paper shows instead of the buttons (the class is _static/print.css's).
PRINT_NOTE = ('<p class="poolbook-print-only" style="display: none"><em>On paper, the '
              'animation\'s first frame: the HTML book plays it, on this chapter\'s page, '
              'with buttons to step through its frames.</em></p>')
# The start of the first frame's PNG, base64 (matplotlib breaks the data into lines).
FIRST_FRAME = re.compile(r'frames\[0\] = "data:image/png;base64,([A-Za-z0-9+/]{32})')


def check_html(html):
    """Refuse anything but a string (the player's HTML)."""
    if not isinstance(html, str):
        raise TypeError(f"html must be a string, the HTML of a matplotlib animation player "
                        f"(Animation.to_jshtml()), got {type(html).__name__}")


def without_remote_icons(html):
    """The player's HTML without its Font Awesome link, its icons as characters."""
    check_html(html)
    html = FONT_AWESOME.sub('', html)
    for icon, text in ICONS.items():
        html = html.replace(f'<i class="fa {icon}"></i>', text)
    return html


def player_id(html):
    """The player's element id (its _anim_img<id>); a ValueError for other HTML."""
    check_html(html)
    found = RANDOM_ID.search(html)
    if found is None:
        raise ValueError('html must be the HTML of a matplotlib animation player '
                         '(Animation.to_jshtml()), found no _anim_img<id> in it')
    return found.group(1)


def with_stable_id(html):
    """The player's HTML with its random element id replaced by a hash of the rest."""
    random_id = player_id(html)
    stable_id = hashlib.sha1(html.replace(random_id, '').encode()).hexdigest()[:32]
    return html.replace(random_id, stable_id)


def with_print_note(html):
    """The player's HTML with PRINT_NOTE just before its controls."""
    check_html(html)
    if html.count(CONTROLS) != 1:
        raise ValueError(f'html must be the HTML of a matplotlib animation player '
                         f'(Animation.to_jshtml()) with one {CONTROLS}, found '
                         f'{html.count(CONTROLS)}')
    return html.replace(CONTROLS, PRINT_NOTE + CONTROLS)


def frame_size(html):
    """(width, height) in pixels of the player's first frame, an embedded PNG."""
    check_html(html)
    found = FIRST_FRAME.search(html)
    if found is None:
        raise ValueError('html must embed its frames as PNG data (to_jshtml with '
                         'embed_frames), found no frames[0] = "data:image/png;base64,..."')
    header = base64.b64decode(found.group(1)[:32])  # the signature, then the IHDR chunk
    return struct.unpack('>II', header[16:24])


def at_pixel_ratio(html, pixel_ratio):
    """The player's HTML showing its frames at 1/pixel_ratio of their pixel width."""
    if isinstance(pixel_ratio, bool) or not isinstance(pixel_ratio, int):
        raise TypeError(f'pixel_ratio must be an int, got {pixel_ratio!r}')
    if pixel_ratio < 1:
        raise ValueError(f'pixel_ratio must be at least 1, got {pixel_ratio}')
    check_html(html)
    if pixel_ratio == 1:
        return html
    if len(IMAGE.findall(html)) != 1:
        raise ValueError('html must be the HTML of a matplotlib animation player '
                         '(Animation.to_jshtml()) with one <img id="_anim_img<id>">')
    width, _ = frame_size(html)
    return IMAGE.sub(rf'<img id="\1" width="{width // pixel_ratio}">', html)


def offline_player(html, pixel_ratio=1):
    """The player's HTML without remote assets, with a note for paper, its frames shown
    at 1/pixel_ratio of their pixels; the same for the same animation."""
    player_id(html)  # a player, or a ValueError saying what is missing
    html = at_pixel_ratio(with_print_note(without_remote_icons(html)), pixel_ratio)
    return with_stable_id(html)
