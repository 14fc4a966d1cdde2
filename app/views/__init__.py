"""One module per page of the app (moved here from app/; app/streamlit_app.py registers them)."""
