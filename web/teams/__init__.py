"""Teams: a name, the supervisors who lead it and the users who work in it (each in one team)."""
