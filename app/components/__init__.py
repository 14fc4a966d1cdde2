"""Streamlit components of the app that carry their own frontend (one package each)."""
