"""Platform-neutral core of iben-bot: events in, actions out through a ChatPort."""
