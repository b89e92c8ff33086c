"""Telling people: new KPI alerts after a run publishes, and the weekly digest.

Channels (a Slack-compatible webhook, email over
SMTP), the ledger of what was sent (`ops.notifications_sent` in the pipeline's
warehouse), and the texts. `orchestration/defs/notifications.py` wires them in.
"""
