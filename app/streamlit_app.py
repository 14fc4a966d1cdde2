"""Entry point: `streamlit run app/streamlit_app.py`. Page config and navigation only."""

from __future__ import annotations

import sys
from pathlib import Path

# `streamlit run` puts app/ on sys.path, not the repository root that holds resnet_core and app.
ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import streamlit as st  # noqa: E402

st.set_page_config(page_title="ResNet Explorer", page_icon="🧱", layout="wide")

#: (module file, title, icon, url_path); every page's state lives in its URL's query parameters.
PAGES = [
    ("explorer.py", "Architecture explorer", "🔎", "explorer"),
    ("compare.py", "Compare", "⚖️", "compare"),
    ("receptive_field.py", "Receptive field", "🎯", "receptive-field"),
    ("live.py", "Live", "⚡", "live"),
    ("explainer.py", "Explainer", "📖", "explainer"),
]
HERE = Path(__file__).resolve().parent

pages = [
    st.Page(str(HERE / file), title=title, icon=icon, url_path=url_path, default=url_path == "explorer")
    for file, title, icon, url_path in PAGES
    if (HERE / file).exists()
]
st.navigation(pages).run()
