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

pages = [
    st.Page("explorer.py", title="Architecture explorer", icon="🔎", url_path="explorer", default=True),
]
st.navigation(pages).run()
