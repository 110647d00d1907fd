"""The Slack adapter: slack-bolt AsyncApp in Socket Mode or HTTP mode."""
