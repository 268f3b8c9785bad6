"""Periodic evaluation reports: immutable snapshots of the §6 metrics per university and period.

``periods`` (calendar arithmetic), ``compute`` (metric sections: journal frame in, tables out), ``findings``
(the weakest units and steps), ``render`` (HTML with SVG charts, PDF, CSV, XLSX, Parquet), ``store`` (the
snapshot table, one transaction per report) and ``jobs`` (the actors and the scheduler's hook).
"""
