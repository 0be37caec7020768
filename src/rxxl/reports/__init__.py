"""Monthly report workbooks: finance-standard templates filled headlessly (issue 6).

Import direction: ``reports`` uses ``data`` and the metric modules, never the reverse.
"""
