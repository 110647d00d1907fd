"""Command and job handlers: plain async functions of (event, context)."""
