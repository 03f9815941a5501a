"""Subscriptions, alerts and the scheduler that sends them (docs/subscriptions.md).

- store: create, change, list and remove subscriptions (audited), users' delivery addresses
- schedule: the latest schedule slot at a moment (daily/weekly/monthly, HH:MM, zoneinfo time zone)
- content: a page summary or an alert email, computed as the recipient with their scope at send time
- alerts: the watched conditions and the rows behind each firing
- mailer: SMTP delivery with retries (bad addresses are not retried)
- runner: the scheduler (`python -m dashboard scheduler [--once] [--now ...]`), exactly once per slot
- tokens: signed unsubscribe links and their route
"""
