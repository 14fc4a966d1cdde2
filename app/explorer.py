"""Architecture explorer: pick a preset, see what it is."""

from __future__ import annotations

import streamlit as st

from resnet_core import PRESETS, build


@st.cache_resource(show_spinner=False)
def param_count(name: str) -> int:
    model = build(PRESETS[name], device="meta")
    return sum(p.numel() for p in model.parameters())


st.title("ResNet Explorer")
name = st.sidebar.selectbox("Preset", list(PRESETS), index=list(PRESETS).index("resnet50"), key="preset")
st.metric("Parameters", f"{param_count(name):,}")
