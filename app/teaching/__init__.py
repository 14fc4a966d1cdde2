"""The explainer's engine, apart from the page that draws it (``app.views.explainer``). No Streamlit here.

* ``numbers``: the ``{{name}}`` placeholder registry, the papers' values with their sources, the
  live-number helpers and ``fill()``;
* ``sections``: ``assets/explainer/*.md`` parsed into sections and lecture steps (the only module
  here that reads ``assets/``);
* ``sources``: the project's own block code, annotated line by line;
* ``questions``: check-yourself questions answered by the live model;
* ``figures``: the small block figures the sources and the lecture steps point at.
"""
