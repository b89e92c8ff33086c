"""The product-ops dashboard (`productops dashboard`) and the shareable report (`productops report`).

Both read only the published marts (`PRODUCTOPS_PUBLISHED`), never the file the
pipeline writes, and draw every chart from the same code (`charts.py`): a page
module in `views/` turns the marts into a `Page` (tiles, charts, tables), which
Streamlit shows (`app.py`) and the report writes as one self-contained HTML file.
"""
