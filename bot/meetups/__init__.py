"""Job-alike meet-ups: membership, matching rounds, invitations and follow-ups."""
