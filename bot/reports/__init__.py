"""The access log's output formats: XLSX, CSV, PDF and the statistics chart.

Rendering only, no Telegram and no database: bot/reports/export.py loads the rows and calls these.
"""
