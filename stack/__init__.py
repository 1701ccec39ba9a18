"""``python -m stack``: the whole game locally, every service started and supervised."""
