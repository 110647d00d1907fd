"""The Discord adapter: discord.py with application commands."""
