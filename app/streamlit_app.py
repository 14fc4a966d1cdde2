"""Entry point: `streamlit run app/streamlit_app.py`. Page config and navigation; the pages are app/views."""

from __future__ import annotations

import sys
from pathlib import Path

# `streamlit run` puts app/ on sys.path, not the repository root that holds resnet_core and app.
ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import streamlit as st  # noqa: E402

from app.views import compare, explainer, explorer, live, receptive_field, why_residual  # noqa: E402

st.set_page_config(page_title="ResNet Explorer", page_icon=":material/account_tree:", layout="wide")
# Less blank space above each page's title, so a 1280×800 laptop shows the numbers and the controls.
st.html("<style>[data-testid='stMainBlockContainer'] { padding-top: 2.5rem; }</style>")

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


# Streamlit serves the default page at "/" whatever its url_path; a hidden redirect there keeps
# every page, the explorer included, at its own path, so "/explorer?arch=…" links work.
current = st.navigation([st.Page(home, title="Home", url_path="home", default=True, visibility="hidden"), *pages])
st.session_state["_current_page"] = current.url_path  # app.widgets.PAGE_KEY: the editors notice a page switch
current.run()
