"""Virtual World Cafés: templates (questions, routines, minutes) and table rotation."""
