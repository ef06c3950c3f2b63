"""Meetings (三会一课) and attendance, which credit or deduct points automatically."""
