"""The demo: seeding that touches every app, so it sits at the top beside
config/ (no app imports it). `python manage.py seed_demo`."""
