"""The animation player rewritten for a static, offline page: no remote assets, and the
same HTML for the same animation; a note for paper in place of its buttons, and frames of
several times the pixels shown at their size."""
import pathlib
import re

import matplotlib.pyplot as plt
from matplotlib.animation import FuncAnimation
import pytest

from poolbook.player import (ICONS, PRINT_NOTE, frame_size, offline_player,
                             with_stable_id, without_remote_icons)

PRINT_CSS = pathlib.Path(__file__).resolve().parents[1] / '_static' / 'print.css'


def player_html(frames=3, dpi=20):
    """matplotlib's own player for a tiny animation: a dot moving along a line, in a
    1 x 1 inch figure whose frames are saved at `dpi` (so `dpi` pixels square)."""
    fig, ax = plt.subplots(figsize=(1, 1), dpi=20)
    dot, = ax.plot([0], [0], 'o')
    ax.set_xlim(0, frames)
    animation = FuncAnimation(fig, lambda n: dot.set_data([n], [0]), frames=frames)
    with plt.rc_context({'savefig.dpi': dpi}):
        html = animation.to_jshtml(default_mode='loop')
    plt.close(fig)
    return html


def random_ids(html):
    return set(re.findall(r'_anim_img([0-9a-f]{32})', html))


def test_matplotlib_player_loads_font_awesome_and_has_a_random_id():
    # What the module is for: if matplotlib stops doing either, these rewrites can go.
    first, second = player_html(), player_html()
    assert 'font-awesome' in first and '<i class="fa fa-play"></i>' in first
    assert first != second and random_ids(first) != random_ids(second)


def test_offline_player_has_no_remote_asset_and_text_buttons():
    html = offline_player(player_html())
    assert 'https://' not in html and 'font-awesome' not in html
    assert '<i class="fa' not in html
    assert 'class="anim-buttons"' in html
    assert all(text in html for text in ('\u25b6', '|\u25c0\u25c0', '\u25b6\u25b6|'))


def test_offline_player_keeps_every_frame():
    html = offline_player(player_html(frames=4))
    assert sorted(set(re.findall(r'frames\[(\d+)\]', html))) == ['0', '1', '2', '3']


def test_same_animation_gives_the_same_html_and_another_one_does_not():
    assert offline_player(player_html()) == offline_player(player_html())
    assert offline_player(player_html(frames=3)) != offline_player(player_html(frames=4))


def test_stable_id_replaces_every_occurrence_of_the_random_one():
    html = ('<img id="_anim_img' + 'a' * 32 + '">'
            '<script>var img_id = "_anim_img' + 'a' * 32 + '";</script>')
    other = html.replace('a' * 32, '0123456789abcdef' * 2)
    stable = with_stable_id(html)
    assert 'a' * 32 not in stable
    (new_id,) = random_ids(stable)
    assert stable.count(new_id) == 2
    assert with_stable_id(other) == stable  # the id depends on the rest only


def test_icons_become_the_characters_of_the_table():
    html = ''.join(f'<button><i class="fa {icon}"></i></button>' for icon in ICONS)
    assert without_remote_icons(html) == ''.join(f'<button>{text}</button>'
                                                  for text in ICONS.values())


def test_html_that_is_not_a_player_is_refused():
    with pytest.raises(ValueError, match='_anim_img'):
        offline_player('<p>no player here</p>')


def test_offline_player_has_a_note_for_paper_before_its_controls_hidden_on_screen():
    html = offline_player(player_html())
    assert html.count(PRINT_NOTE) == 1
    assert html.index(PRINT_NOTE) < html.index('<div class="anim-controls">')
    assert 'class="poolbook-print-only" style="display: none"' in PRINT_NOTE
    assert 'HTML book' in PRINT_NOTE


def test_frames_of_twice_the_pixels_are_shown_at_half_their_width():
    html = player_html(dpi=40)  # a 1-inch figure saved at 40 dpi: 40 x 40 pixel frames
    assert frame_size(html) == (40, 40)
    assert re.findall(r'<img id="_anim_img[0-9a-f]{32}" width="20">',
                      offline_player(html, pixel_ratio=2))
    assert re.findall(r'<img id="_anim_img[0-9a-f]{32}">', offline_player(html))


@pytest.mark.parametrize('ratio, error', [(0, ValueError), (-2, ValueError),
                                          (1.5, TypeError), (True, TypeError)])
def test_a_pixel_ratio_that_is_not_a_positive_int_is_refused(ratio, error):
    with pytest.raises(error, match='pixel_ratio'):
        offline_player(player_html(), pixel_ratio=ratio)


def test_on_paper_the_buttons_give_way_to_the_note(page):
    """The book's print stylesheet hides the player's controls and shows the note; on
    screen the controls show and the note does not."""
    html = offline_player(player_html(), pixel_ratio=2)
    page.set_content(f'<!DOCTYPE html><html><head><style>{PRINT_CSS.read_text()}</style>'
                     f'</head><body>{html}</body></html>')
    shown = """() => ['.anim-controls', '.poolbook-print-only'].map(selector =>
        getComputedStyle(document.querySelector(selector)).display !== 'none')"""
    page.emulate_media(media='screen')
    assert page.evaluate(shown) == [True, False]
    page.emulate_media(media='print')
    assert page.evaluate(shown) == [False, True]
