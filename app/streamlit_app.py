"""Entry point: `streamlit run app/streamlit_app.py`. Page config, navigation, the presentation size.

The pages are app/views. Every run sets the presentation size (``present=1`` in the URL, a toggle
in the sidebar) before the page runs: larger type through the page's CSS and larger chart fonts
through ``app.charts``, on every page but the lecture, which sizes itself to the screen.
"""

from __future__ import annotations

import sys
from pathlib import Path

# `streamlit run` puts app/ on sys.path, not the repository root that holds resnet_core and app.
ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import streamlit as st  # noqa: E402

from app import charts, sync  # noqa: E402
from app.views import compare, explainer, explorer, live, receptive_field, why_residual  # noqa: E402
from app.widgets import remember, url_param, write_url  # noqa: E402
from resnet_core.selection import parse_bool  # noqa: E402

#: The browser tab's icon, served by this server (a `:material/…:` icon would be fetched from Google).
ICON = ROOT / "assets" / "icon" / "icon.svg"

st.set_page_config(page_title="ResNet Explorer", page_icon=str(ICON), layout="wide")
# Less blank space above each page's title, so a 1280×800 laptop shows the numbers and the controls.
st.html("<style>[data-testid='stMainBlockContainer'] { padding-top: 2.5rem; }</style>" + sync.MARKER_CSS)
# Before any widget: values set from code that a lagging browser sent back at their old values are set
# again (app/sync.py: why settings were lost under load).
sync.begin_run()

#: The presentation size: Streamlit sizes text, widgets, tables and code in rem, so one root size
#: scales them all. 1.1 vw is 21 px at 1920 px wide (body text of at least 20 px on a projector),
#: never below 18 px; the sidebar widens with it so its labels keep their room.
PRESENTATION_CSS = """<style>
html { font-size: max(20px, 1.2vw); }
[data-testid='stSidebar'][data-collapsed='false'] { min-width: max(300px, 19vw); max-width: max(300px, 19vw); }
</style>"""

#: (view, title, icon, url_path); every page's state lives in its URL's query parameters.
#: Material icons ship with Streamlit's fonts, so they draw on machines without an emoji font.
PAGES = [
    (explorer.main, "Architecture explorer", ":material/account_tree:", "explorer"),
    (compare.main, "Compare", ":material/compare_arrows:", "compare"),
    (receptive_field.main, "Receptive field", ":material/center_focus_strong:", "receptive-field"),
    (live.main, "Live", ":material/bolt:", "live"),
    (explainer.main, "Explainer", ":material/menu_book:", "explainer"),
    (why_residual.main, "Why residual?", ":material/trending_down:", "why-residual"),
]

pages = [st.Page(view, title=title, icon=icon, url_path=url_path) for view, title, icon, url_path in PAGES]


def home() -> None:
    """The root URL opens the explorer at /explorer, keeping a link's query parameters."""
    st.switch_page(pages[0], query_params=st.query_params.to_dict())


def presentation_size(page: str) -> None:
    """The sidebar's "Presentation size" toggle (``present=1`` in the URL), applied to this run's
    page and charts; the lecture (``/explainer?mode=lecture``) sizes itself and shows no toggle."""
    url_param("present", "present", False, parse_bool)
    lecture = page == "explainer" and explainer.current_mode() == "lecture"
    on = bool(st.session_state["present"])
    if not lecture:
        on = st.sidebar.toggle(
            "Presentation size",
            key="present",
            help="Larger type, tables and charts for a projector or a room; the link keeps it.",
        )
    remember("present")  # kept while the lecture shows no toggle
    write_url({"present": "1" if on else None})
    charts.use_presentation_size(on and not lecture)
    if on and not lecture:
        st.html(PRESENTATION_CSS)


# Streamlit serves the default page at "/" whatever its url_path; a hidden redirect there keeps
# every page, the explorer included, at its own path, so "/explorer?arch=…" links work.
current = st.navigation([st.Page(home, title="Home", url_path="home", default=True, visibility="hidden"), *pages])
st.session_state["_current_page"] = current.url_path  # app.widgets.PAGE_KEY: the editors notice a page switch
if current.url_path != "home":
    presentation_size(current.url_path)
current.run()
sync.finish_run()  # after every widget: the browser that sends this back has seen them all
