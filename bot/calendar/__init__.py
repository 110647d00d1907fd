"""Community calendar: recurring events in local wall-clock time, and their .ics export."""
