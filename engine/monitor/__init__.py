"""Monitoring: what happens after a run's reports, for runs repeated over time.

runbook watch repeats a schedule (watch.py); every run can be recorded in a history database
(history.py, SQLite or PostgreSQL through SQLAlchemy Core) whose trend is printed or drawn
(trend.py); a watch can serve Prometheus metrics (metrics.py); a spec's classification table
becomes Prometheus alerting rules (alerts.py); a provider's reference page is compared with its
recorded digest (docs_check.py). This package consumes results and specs; it never runs checks
itself (engine.api hands the watch loop a function that does one run).
"""
