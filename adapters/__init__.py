"""Adapters: Slack, Discord and the console translate platform events to the core and back."""
