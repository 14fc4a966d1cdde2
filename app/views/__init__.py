"""One module per page, each a ``main()`` that ``app/streamlit_app.py`` registers with ``st.navigation``.

A view reads its widgets (state in the URL), calls ``resnet_core`` (through ``app.widgets``'s cached
analysis) and draws; charts come from ``app.charts``. Nothing runs when a view module is imported.
"""
